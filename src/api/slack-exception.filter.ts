import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type DatabaseOutage, isDatabaseUnavailable } from '../db/database.js';
import { SlackError } from '../domain/slack-error.js';

const log = new Logger('Errors');

/** What Slack answers for failures that happen before a method runs (Nest wraps Fastify's in `cause`). */
function slackFailure(status: number, fastifyCode: string | undefined, contentType: string | undefined): { status: number; error: string } {
  if (status === 413 || fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, error: 'request_too_large' };
  if (status === 415 || fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 200, error: contentType ? 'invalid_post_type' : 'missing_post_type' };
  }
  if (fastifyCode === 'FST_ERR_CTP_INVALID_JSON_BODY' || fastifyCode === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return { status: 200, error: 'invalid_json' };
  if (status === 404) return { status: 200, error: 'unknown_method' };
  if (status < 500) return { status: 200, error: 'invalid_arguments' };
  return { status: 200, error: 'internal_error' };
}

/** PostgreSQL's class 22 "data exception" (SQLSTATE 22xxx), as raised through `pg`. */
function isDataException(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown };
  return typeof e?.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code) && typeof e.severity === 'string';
}

/** Seconds a client is asked to wait while PostgreSQL or a key service is unreachable (Slack clients honour Retry-After on 503). */
const OUTAGE_RETRY_AFTER_S = 5;

/**
 * The answer to every failure. Under /api it is Slack's `{ok:false, error}`; elsewhere the HTTP
 * error as Nest shapes it. Never a stack trace: unexpected errors are logged here and answered
 * with a generic message.
 */
export function answerError(err: unknown, req: FastifyRequest, reply: FastifyReply, outage?: DatabaseOutage): void {
  if (isDatabaseUnavailable(err)) {
    // An outage, not a bug: 503 + Retry-After so clients retry, one log line per outage (not per request).
    outage?.noteUnavailable(err);
    reply.header('Retry-After', String(OUTAGE_RETRY_AFTER_S));
    const body = req.url.startsWith('/api/')
      ? { ok: false, error: 'service_unavailable' }
      : { statusCode: 503, message: 'Service unavailable: the database cannot be reached; retry later' };
    void reply.status(503).send(body);
    return;
  }
  if (err instanceof SlackError) {
    if (err.status === 429) reply.header('Retry-After', String(err.extra.retry_after ?? 1));
    else if (err.status === 503) reply.header('Retry-After', String(OUTAGE_RETRY_AFTER_S)); // ekm_unavailable
    const { retry_after: _, ...extra } = err.extra;
    void reply.status(err.status).send({ ok: false, error: err.code, ...extra });
    return;
  }
  const e = err as { statusCode?: number; code?: string; cause?: { code?: string } };
  let status = err instanceof HttpException ? err.getStatus() : (e.statusCode ?? 500);
  if (isDataException(err)) {
    // A value PostgreSQL refused (a NUL in a string, a number out of range) that validation let
    // through: the statement failed, so nothing was written; it is the caller's input, not a crash.
    log.warn({ code: e.code, url: req.url.split('?')[0] }, 'input refused by the database');
    status = 400;
  }
  if (status >= 500) log.error({ err, url: req.url.split('?')[0] }, 'request failed');
  if (req.url.startsWith('/api/')) {
    const failure = slackFailure(status, e.cause?.code ?? e.code, req.headers['content-type']);
    void reply.status(failure.status).send({ ok: false, error: failure.error });
  } else if (err instanceof HttpException) {
    const body = err.getResponse();
    const retryAfter = (body as { retry_after?: number }).retry_after;
    if (status === 429 && retryAfter) reply.header('Retry-After', String(retryAfter));
    void reply.status(status).send(typeof body === 'string' ? { statusCode: status, message: body } : body);
  } else {
    void reply.status(status).send({ statusCode: status, message: status < 500 ? 'Bad request' : 'Internal server error' });
  }
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(private readonly outage?: DatabaseOutage) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    answerError(err, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.outage);
  }
}
