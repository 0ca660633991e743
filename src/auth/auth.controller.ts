import { Body, Controller, Get, HttpCode, HttpException, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG, type Config } from '../config/config.js';
import type { UserRow } from '../domain/user.js';
import {
  CSRF_HEADER,
  clearedSessionCookie,
  csrfMatches,
  csrfTokenFor,
  isSigninCodeShape,
  sessionCookie,
  sessionFromCookie,
} from '../workspaces/web-sessions.js';
import { WorkspacesService } from '../workspaces/workspaces.service.js';

const fail = (status: number, error: string) => new HttpException({ ok: false, error }, status);

/**
 * Sign-in for people (the web client's side of the contract in README "Signing in"): a sign-in
 * link's code is exchanged once for a web session held in an HttpOnly cookie; the CSRF token in the
 * answer is what page script sends back as X-CSRF-Token. Not part of the admin OpenAPI document.
 */
@Controller('auth')
@ApiExcludeController()
export class AuthController {
  private readonly publicOrigin: string;
  private readonly secure: boolean;

  constructor(
    private readonly workspaces: WorkspacesService,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    const url = new URL(config.PUBLIC_URL);
    this.publicOrigin = url.origin;
    this.secure = url.protocol === 'https:';
  }

  /** `{code}` from the link's fragment → the session cookie, who signed in, and the CSRF token. */
  @Post('signin')
  @HttpCode(200)
  async signin(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Body() body: unknown) {
    this.sameOrigin(req);
    const code = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).code : undefined;
    if (!isSigninCodeShape(code)) throw fail(401, 'invalid_code');
    const signedIn = await this.workspaces.signIn(code);
    if (!signedIn) throw fail(401, 'invalid_code');
    void reply.header('cache-control', 'no-store');
    void reply.header('set-cookie', sessionCookie(signedIn.session, this.config.SESSION_TTL_MS, this.secure));
    return sessionView(signedIn.user, signedIn.workspaceName, signedIn.session);
  }

  /** Who the cookie signs in (the client calls it on load for a CSRF token), or 401 not_authed. */
  @Get('session')
  async session(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    void reply.header('cache-control', 'no-store');
    const session = sessionFromCookie(req.headers.cookie);
    const caller = session && (await this.workspaces.authenticate(session, 'session'));
    if (!session || !caller) throw fail(401, 'not_authed');
    const workspace = await this.workspaces.findWorkspace(caller.workspace);
    return sessionView(caller.user, workspace?.name ?? '', session);
  }

  /** Revokes the session (its open sockets get `revoked`) and clears the cookie. Needs the CSRF header. */
  @Post('signout')
  @HttpCode(200)
  async signout(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    this.sameOrigin(req);
    const session = sessionFromCookie(req.headers.cookie);
    if (!session) throw fail(401, 'not_authed');
    if (!csrfMatches(session, req.headers[CSRF_HEADER])) throw fail(401, 'invalid_auth');
    const caller = await this.workspaces.authenticate(session, 'session');
    // Audit: a sign-out is the user's own action, not an admin one.
    if (caller) await this.workspaces.revokeCredential(caller.user.id, caller.tokenId, 'signed_out');
    void reply.header('set-cookie', clearedSessionCookie(this.secure));
    return { ok: true };
  }

  /** A browser names the page that sent a POST; another site's page may not sign anyone in or out. */
  private sameOrigin(req: FastifyRequest): void {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== this.publicOrigin) throw fail(403, 'invalid_origin');
  }
}

function sessionView(user: UserRow, workspaceName: string, session: string) {
  return {
    ok: true,
    user: { id: user.id, name: user.name, real_name: user.real_name },
    workspace: { id: user.workspace_id, name: workspaceName },
    csrf_token: csrfTokenFor(session),
  };
}
