import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import type { Caller } from '../workspaces/workspaces.service.js';
import { ChannelsRepository } from './channels.repository.js';

/** Channel ids are upper case (C…, D…); names are lower case, so the two never look alike. */
const CHANNEL_ID = /^[A-Z][A-Z0-9]{1,30}$/;

/**
 * The one channel resolver: Slack accepts `#general` or `general` wherever it takes a `channel`, so
 * every method gets the argument rewritten to the id before validation and the use case. An unknown
 * name stays as it is and is answered channel_not_found like an unknown id; a private channel's
 * name resolves, and the channel rules then hide it from non-members as they hide its id.
 */
@Injectable()
export class ChannelNames implements NestInterceptor {
  constructor(private readonly channels: ChannelsRepository) {}

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { caller?: Caller }>();
    if (req.caller) {
      for (const args of [req.body, req.query] as Array<Record<string, unknown> | undefined>) {
        const value = args && typeof args === 'object' ? args.channel : undefined;
        if (typeof value !== 'string' || !value || CHANNEL_ID.test(value) || value.length > 81) continue;
        const id = await this.channels.idByName(req.caller.workspace, value.replace(/^#/, ''));
        if (id) args!.channel = id;
      }
    }
    return next.handle();
  }
}
