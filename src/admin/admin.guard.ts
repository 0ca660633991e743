import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditRepository } from '../audit/audit.repository.js';
import { CONFIG, type Config } from '../config/config.js';
import { AuthFailures } from '../workspaces/auth-failures.js';
import { sameSecret } from '../workspaces/tokens.js';
import type { Role } from '../workspaces/workspaces.repository.js';
import { WorkspacesService } from '../workspaces/workspaces.service.js';
import type { AdminCaller } from './admin-caller.js';
import { type AdminRequest, auditEntry } from './audit.interceptor.js';

export type { AdminCaller } from './admin-caller.js';

/** Roles of workspace users a route admits besides the operator; workspace admins only unless set. */
export const AdminRoles = Reflector.createDecorator<Role[]>();

@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly workspaces: WorkspacesService,
    private readonly reflector: Reflector,
    private readonly failures: AuthFailures,
    private readonly audit: AuditRepository,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AdminRequest>();
    const bearer = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!bearer) throw new UnauthorizedException('a bearer token is required');
    const token = bearer[1];
    const wait = this.failures.blockedFor(req.ip);
    if (wait !== undefined) throw tooManyFailures(wait);
    if (this.config.ADMIN_TOKEN && sameSecret(token, this.config.ADMIN_TOKEN)) {
      req.admin = { operator: true };
      await this.checkWorkspaceParam(req.admin, req.params as Record<string, string | undefined>);
      return true;
    }
    const caller = await this.workspaces.authenticate(token);
    if (!caller) {
      await this.failures.failed(req.ip);
      throw new UnauthorizedException('invalid token');
    }
    const admin: AdminCaller = { operator: false, workspace: caller.workspace, userId: caller.user.id };
    try {
      const roles = this.reflector.getAllAndOverride(AdminRoles, [ctx.getHandler(), ctx.getClass()]) ?? ['admin'];
      if (!roles.includes(caller.user.role)) throw new ForbiddenException(`only ${roles.join(' and ')} users`);
      await this.checkWorkspaceParam(admin, req.params as Record<string, string | undefined>);
    } catch (err) {
      // An identified user refused here never reaches the audit interceptor: record the attempt now.
      await this.audit.record(auditEntry(ctx, admin, err));
      throw err;
    }
    req.admin = admin;
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

/** 429 with Retry-After, for an address past its failed-authentication budget. */
function tooManyFailures(retryAfter: number): HttpException {
  return new HttpException({ statusCode: 429, message: 'too many failed authentications from this address', retry_after: retryAfter }, 429);
}
