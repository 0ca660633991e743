import {
  type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, NotFoundException, UnauthorizedException,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CONFIG, type Config } from '../config/config.js';
import { sameSecret } from '../workspaces/tokens.js';
import { WorkspacesService } from '../workspaces/workspaces.service.js';

/** Who is calling the admin API: the instance operator (every workspace) or one workspace's admin. */
export type AdminCaller = { operator: true } | { operator: false; workspace: string; userId: string };

@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly workspaces: WorkspacesService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { admin?: AdminCaller }>();
    const bearer = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!bearer) throw new UnauthorizedException('a bearer token is required');
    const token = bearer[1];
    if (this.config.ADMIN_TOKEN && sameSecret(token, this.config.ADMIN_TOKEN)) {
      req.admin = { operator: true };
      await this.checkWorkspaceParam(req.admin, req.params as Record<string, string | undefined>);
      return true;
    }
    const caller = await this.workspaces.authenticate(token);
    if (!caller) throw new UnauthorizedException('invalid token');
    if (caller.user.role !== 'admin') throw new ForbiddenException('workspace admins only');
    req.admin = { operator: false, workspace: caller.workspace, userId: caller.user.id };
    await this.checkWorkspaceParam(req.admin, req.params as Record<string, string | undefined>);
    return true;
  }

  /** Every route under /workspaces/:workspace is the caller's own workspace (403) and exists (404). */
  private async checkWorkspaceParam(admin: AdminCaller, params: Record<string, string | undefined>): Promise<void> {
    if (!params.workspace) return;
    assertWorkspace(admin, params.workspace);
    if (!(await this.workspaces.findWorkspace(params.workspace))) throw new NotFoundException('workspace not found');
  }
}

/** Throws 403 unless the caller may administer `workspace`. */
export function assertWorkspace(admin: AdminCaller, workspace: string): void {
  if (!admin.operator && admin.workspace !== workspace) throw new ForbiddenException('not an admin of this workspace');
}
