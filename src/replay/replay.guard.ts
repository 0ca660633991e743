import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CONFIG, type Config } from '../config/config.js';
import { sameSecret } from '../workspaces/tokens.js';
import { WorkspacesService } from '../workspaces/workspaces.service.js';

/** Who may replay streams: the instance operator (every workspace), or an analyst or admin of one workspace. */
export type ReplayCaller = { operator: true } | { operator: false; workspace: string; userId: string };

@Injectable()
export class ReplayGuard implements CanActivate {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly workspaces: WorkspacesService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { replay?: ReplayCaller }>();
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) throw new UnauthorizedException('a bearer token is required');
    const token = header.slice(7).trim();
    if (this.config.ADMIN_TOKEN && sameSecret(token, this.config.ADMIN_TOKEN)) {
      req.replay = { operator: true };
      return true;
    }
    const caller = await this.workspaces.authenticate(token);
    if (!caller) throw new UnauthorizedException('invalid token');
    if (caller.user.role !== 'analyst' && caller.user.role !== 'admin') throw new ForbiddenException('analysts and workspace admins only');
    req.replay = { operator: false, workspace: caller.workspace, userId: caller.user.id };
    return true;
  }
}
