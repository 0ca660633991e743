import {
  All,
  applyDecorators,
  type CallHandler,
  Controller,
  HttpCode,
  Injectable,
  type NestInterceptor,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { map, type Observable } from 'rxjs';
import { ChannelNames } from './channel-names.interceptor.js';
import { slackValidation } from './slack-args.js';
import { SlackAuthGuard } from './slack-auth.guard.js';
import { SlackRateLimitGuard } from './slack-rate-limit.guard.js';

/** Slack answers success as `{ ok: true, ...result }`; handlers return only the result. */
@Injectable()
export class SlackOk implements NestInterceptor {
  intercept(_ctx: unknown, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((result: object | undefined) => ({ ok: true, ...result })));
  }
}

/**
 * A controller of Slack Web API methods under /api: token auth, per-token rate limit, Slack-coded
 * validation. Left out of the admin OpenAPI document: Slack documents these methods.
 */
export const SlackMethods = () =>
  applyDecorators(
    Controller('api'),
    ApiExcludeController(),
    UseGuards(SlackAuthGuard, SlackRateLimitGuard),
    UsePipes(slackValidation),
    UseInterceptors(SlackOk, ChannelNames),
  );

/** One Slack method: any HTTP verb, always HTTP 200 (refusals are `{ ok: false, error }`). */
export const SlackMethod = (name: string) => applyDecorators(All(name), HttpCode(200));
