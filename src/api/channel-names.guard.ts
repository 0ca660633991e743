import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../workspaces/workspaces.service.js';
import { ChannelsRepository } from './channels.repository.js';

/** Channel ids are upper case (C…, D…); names are lower case, so the two never look alike. */
const CHANNEL_ID = /^[A-Z][A-Z0-9]{1,30}$/;

/**
 * The one channel resolver: Slack accepts `#general` or `general` wherever it takes a `channel`, so
 * every method gets the argument rewritten to the id before validation and the use case. An unknown
 * name stays as it is and is answered channel_not_found like an unknown id; a private channel's
 * name resolves, and the channel rules then hide it from non-members as they hide its id.
 *
 * A guard, after SlackAuthGuard and SlackRateLimitGuard, rather than an interceptor: it runs at the
 * same point (before the pipes), and a Slack method then has no interceptor, so Nest calls its
 * handler without wrapping it in rxjs observables on every request. It never refuses.
 */
@Injectable()
export class ChannelNames implements CanActivate {
  constructor(private readonly channels: ChannelsRepository) {}

  // Synchronous when no argument is a name (the usual case: clients send ids): Nest then goes on
  // without awaiting a promise.
  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    const req = ctx.getArgByIndex<FastifyRequest & { caller?: Caller }>(0);
    if (!req.caller || !(isName(req.body) || isName(req.query))) return true;
    return this.resolve(req.caller, [req.body, req.query]);
  }

  private async resolve(caller: Caller, sources: unknown[]): Promise<boolean> {
    for (const args of sources) {
      if (!isName(args)) continue;
      const named = args as { channel: string };
      const id = await this.channels.idByName(caller.workspace, named.channel.replace(/^#/, ''));
      if (id) named.channel = id;
    }
    return true;
  }
}

/** True when `args` has a `channel` argument that is a name to resolve, not an id. */
function isName(args: unknown): boolean {
  const value = args && typeof args === 'object' ? (args as Record<string, unknown>).channel : undefined;
  return typeof value === 'string' && value !== '' && !CHANNEL_ID.test(value) && value.length <= 81;
}
