import { All, applyDecorators, Controller, HttpCode, UseGuards, UsePipes } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ChannelNames } from './channel-names.guard.js';
import { slackValidation } from './slack-args.js';
import { SlackAuthGuard } from './slack-auth.guard.js';
import { SlackRateLimitGuard } from './slack-rate-limit.guard.js';

/**
 * A controller of Slack Web API methods under /api: token auth, per-token rate limit, channel names
 * resolved to ids, Slack-coded validation. Left out of the admin OpenAPI document: Slack documents
 * these methods. No interceptor: with none, Nest runs a handler without rxjs on every request.
 */
export const SlackMethods = () =>
  applyDecorators(
    Controller('api'),
    ApiExcludeController(),
    UseGuards(SlackAuthGuard, SlackRateLimitGuard, ChannelNames),
    UsePipes(slackValidation),
  );

type Handler = (...args: unknown[]) => unknown;

/**
 * Slack answers success as `{ ok: true, ...result }`; handlers return only the result. The handler
 * is wrapped in place (a plain async function, not an interceptor); the metadata already set on it
 * by decorators written below this one moves to the wrapper, where Nest reads it.
 */
function answersOk(_target: object, _key: string | symbol, descriptor: PropertyDescriptor): void {
  const handler = descriptor.value as Handler;
  const ok = (result: unknown) => ({ ok: true, ...(result as object | undefined) });
  // Not an async function: the handler's promise is chained once instead of awaited in another one.
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const result = handler.apply(this, args);
    return result instanceof Promise ? result.then(ok) : Promise.resolve(ok(result));
  };
  for (const key of Reflect.getOwnMetadataKeys(handler)) Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, handler), wrapped);
  Object.defineProperty(wrapped, 'name', { value: handler.name });
  descriptor.value = wrapped;
}

/** One Slack method: any HTTP verb, always HTTP 200 (refusals are `{ ok: false, error }`). */
export const SlackMethod = (name: string) => applyDecorators(answersOk, All(name), HttpCode(200));
