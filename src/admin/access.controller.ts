import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CONFIG, type Config } from '../config/config.js';
import { toSlackUser, type UserRow } from '../domain/user.js';
import type { CredentialRow } from '../workspaces/workspaces.repository.js';
import { WorkspacesService } from '../workspaces/workspaces.service.js';
import { AdminGuard } from './admin.guard.js';
import { AuditInterceptor } from './audit.interceptor.js';

/**
 * Who may get in: a user's API tokens and web sessions, revoking them, deactivating the user, and
 * sign-in links for people. Every revocation reaches open sockets on every node within a second.
 * Each write here is recorded on the audit trail (AuditInterceptor).
 */
@ApiTags('access')
@ApiBearerAuth()
@Controller('admin/v1/workspaces/:workspace/users/:user')
@UseGuards(AdminGuard)
@UseInterceptors(AuditInterceptor)
export class AccessController {
  constructor(
    private readonly workspaces: WorkspacesService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get('credentials')
  @ApiOperation({ summary: "The user's API tokens and web sessions (never their secrets), revoked ones included" })
  async list(@Param('workspace') workspace: string, @Param('user') user: string) {
    await this.userOf(workspace, user);
    return { credentials: (await this.workspaces.listCredentials(user)).map(credentialView) };
  }

  @Post('tokens')
  @ApiOperation({ summary: 'A new API token for the user, shown only in this answer' })
  async issueToken(@Param('workspace') workspace: string, @Param('user') user: string) {
    const issued = await this.workspaces.issueApiToken(workspace, user);
    if (!issued) throw new NotFoundException('user not found or deactivated');
    return { ...credentialView(issued), token: issued.token };
  }

  @Post('credentials/:credential/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revokes one token or web session; its open sockets get `revoked` and are disconnected' })
  async revoke(@Param('workspace') workspace: string, @Param('user') user: string, @Param('credential') credential: string) {
    await this.userOf(workspace, user);
    const row = await this.workspaces.revokeCredential(user, credential);
    if (!row) throw new NotFoundException('credential not found');
    return credentialView(row);
  }

  @Post('deactivate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Deactivates the user (`deleted: true`): every token, session and unused sign-in link revoked at once' })
  async deactivate(@Param('workspace') workspace: string, @Param('user') user: string) {
    const result = await this.workspaces.deactivateUser(workspace, user);
    if (!result) throw new NotFoundException('user not found');
    return { user: userView(result.user), revoked: result.revoked.length };
  }

  @Post('reactivate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Lets a deactivated user back in; old credentials stay revoked (issue a token or a sign-in link)' })
  async reactivate(@Param('workspace') workspace: string, @Param('user') user: string) {
    const row = await this.workspaces.reactivateUser(workspace, user);
    if (!row) throw new NotFoundException('user not found');
    return { user: userView(row) };
  }

  @Post('sign-in-links')
  @ApiOperation({ summary: 'A single-use sign-in link for the user (SIGNIN_LINK_TTL_MS); opening it signs the person in' })
  async signinLink(@Param('workspace') workspace: string, @Param('user') user: string) {
    const created = await this.workspaces.createSigninCode(workspace, user);
    if (!created) throw new NotFoundException('user not found or deactivated');
    return { url: `${this.config.PUBLIC_URL}/signin#code=${created.code}`, expires_at: created.expiresAt.toISOString() };
  }

  private async userOf(workspace: string, user: string): Promise<UserRow> {
    const row = await this.workspaces.findUser(workspace, user);
    if (!row) throw new NotFoundException('user not found');
    return row;
  }
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

function credentialView(c: CredentialRow) {
  return { id: c.id, kind: c.kind, created_at: iso(c.created_at), expires_at: iso(c.expires_at), revoked_at: iso(c.revoked_at) };
}

const userView = (u: UserRow) => ({ ...toSlackUser(u), role: u.role });
