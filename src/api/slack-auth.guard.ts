import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { SlackError } from '../domain/slack-error.js';
import { AuthFailures } from '../workspaces/auth-failures.js';
import { CSRF_HEADER, csrfMatches, sessionFromCookie } from '../workspaces/web-sessions.js';
import { type Caller, WorkspacesService } from '../workspaces/workspaces.service.js';

/** The token of a request: `Authorization: Bearer`, else a `token` argument (query, form or JSON). */
export function requestToken(req: FastifyRequest): string | undefined {
  // The auth scheme is case-insensitive (RFC 9110), so "bearer xoxp-..." works too.
  const bearer = /^bearer\s+(.*)$/i.exec(req.headers.authorization ?? '');
  if (bearer) return bearer[1].trim();
  const body = req.body as Record<string, unknown> | undefined;
  const token = (body && typeof body === 'object' ? body.token : undefined) ?? (req.query as Record<string, unknown>).token;
  return typeof token === 'string' && token ? token : undefined;
}

@Injectable()
export class SlackAuthGuard implements CanActivate {
  constructor(
    private readonly workspaces: WorkspacesService,
    private readonly failures: AuthFailures,
  ) {}

  // Synchronous for a token whose row is cached (nearly every request): Nest then goes on without
  // awaiting a promise. Otherwise not an async function: the caller's promise is chained once
  // instead of awaited in another one.
  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    const req = ctx.getArgByIndex<FastifyRequest & { caller?: unknown }>(0);
    const known = this.cachedCallerOf(req);
    if (known) {
      req.caller = known;
      return true;
    }
    return this.callerOf(req).then((caller) => {
      req.caller = caller;
      return true;
    });
  }

  /** callerOf's caller when it needs no promise: a token whose row is cached, from an address not held back; else undefined. */
  private cachedCallerOf(req: FastifyRequest): Caller | undefined {
    const token = requestToken(req);
    return token && this.failures.blockedFor(req.ip) === undefined ? this.workspaces.cachedCaller(token) : undefined;
  }

  /**
   * The caller of a request, by its token or else its web session cookie; refusals are Slack errors
   * (`ratelimited`, `not_authed`, `invalid_auth`) and a bad credential counts toward the address's
   * failures. A session also needs the CSRF header only our own page can compute, unless `csrf` is
   * false: for GETs that change nothing and that the browser sends bare (a file's bytes in an <img>).
   */
  async callerOf(req: FastifyRequest, { csrf = true } = {}): Promise<Caller> {
    const token = requestToken(req);
    const wait = this.failures.blockedFor(req.ip);
    if (wait !== undefined) throw new SlackError('ratelimited', 429, { retry_after: wait });
    let caller: Caller | undefined;
    if (token) caller = await this.workspaces.authenticate(token);
    else {
      const session = sessionFromCookie(req.headers.cookie);
      if (!session) throw new SlackError('not_authed');
      if (csrf && !csrfMatches(session, req.headers[CSRF_HEADER])) throw new SlackError('invalid_auth');
      caller = await this.workspaces.authenticate(session, 'session');
    }
    if (!caller) {
      await this.failures.failed(req.ip);
      throw new SlackError('invalid_auth');
    }
    return caller;
  }
}
