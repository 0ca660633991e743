import { type CallHandler, type ExecutionContext, HttpException, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { catchError, from, mergeMap, type Observable, throwError } from 'rxjs';
import { type AuditEntry, AuditRepository } from '../audit/audit.repository.js';
import type { AdminCaller } from './admin-caller.js';

export type AdminRequest = FastifyRequest & { admin?: AdminCaller };

/** Successful GETs of a route (or controller) with this mark are recorded too (replay: analysts reading data). */
export const AuditReads = Reflector.createDecorator<boolean>();

/** For routes that create their target: its kind and where its id is in the answer. */
export const AuditTarget = Reflector.createDecorator<{ kind: string; id: (answer: never) => string | undefined }>();

/** Route parameters naming what an action is about, most specific first (`name` is an emoji's). */
const TARGET_PARAMS: [param: string, kind: string][] = [
  ['hook', 'webhook'],
  ['app', 'app'],
  ['credential', 'credential'],
  ['revocation', 'revocation'],
  ['run', 'run'],
  ['name', 'emoji'],
  ['channel', 'channel'],
  ['user', 'user'],
  ['workspace', 'workspace'],
];

/**
 * Records every admin write and every replay read on the audit trail, with its outcome: `ok`, or
 * `refused` and the error (validation 400s, 403/404/409 of the handler). Refusals by AdminGuard
 * itself (wrong role, another workspace) are recorded by the guard, which runs before this.
 * The row is written before the answer leaves, so a client reading the trail next sees it.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly audit: AuditRepository,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<AdminRequest>();
    const admin = req.admin;
    if (!admin) return next.handle();
    const reads = this.reflector.getAllAndOverride(AuditReads, [ctx.getHandler(), ctx.getClass()]) ?? false;
    const recordOk = req.method !== 'GET' || reads;
    return next.handle().pipe(
      mergeMap(async (answer: unknown) => {
        if (recordOk) await this.audit.record(auditEntry(ctx, admin, undefined, answer, this.reflector));
        return answer;
      }),
      catchError((err: unknown) => from(this.audit.record(auditEntry(ctx, admin, err))).pipe(mergeMap(() => throwError(() => err)))),
    );
  }
}

/** The audit row of one admin request: action `<controller>.<handler>`, target from the route parameters. */
export function auditEntry(ctx: ExecutionContext, admin: AdminCaller, err?: unknown, answer?: unknown, reflector?: Reflector): AuditEntry {
  const req = ctx.switchToHttp().getRequest<AdminRequest>();
  const params = (req.params ?? {}) as Record<string, string | undefined>;
  const query = (req.query ?? {}) as Record<string, unknown>;
  const created = reflector?.get(AuditTarget, ctx.getHandler());
  const createdId = created && answer !== undefined ? created.id(answer as never) : undefined;
  const fromParams = TARGET_PARAMS.find(([param]) => params[param]);
  const target = createdId
    ? { kind: created!.kind, id: createdId }
    : fromParams
      ? { kind: fromParams[1], id: params[fromParams[0]]! }
      : null;
  const workspace =
    params.workspace ??
    (target?.kind === 'workspace' ? target.id : undefined) ??
    (typeof query.workspace === 'string' ? query.workspace : undefined) ??
    (admin.operator ? null : admin.workspace);
  return {
    actor: admin.operator ? 'operator' : admin.userId,
    actorWorkspace: admin.operator ? null : admin.workspace,
    action: `${ctx
      .getClass()
      .name.replace(/Controller$/, '')
      .toLowerCase()}.${ctx.getHandler().name}`,
    target,
    workspace,
    sourceAddress: req.ip,
    outcome: err === undefined ? 'ok' : 'refused',
    error: err === undefined ? null : errorOf(err),
    // The route template and the query (filters, cursors): never the body, which may carry names or text.
    details: {
      method: req.method,
      route: req.routeOptions.url,
      ...(err === undefined ? {} : { status: statusOf(err) }),
      ...(Object.keys(query).length ? { query } : {}),
    },
  };
}

function statusOf(err: unknown): number {
  return err instanceof HttpException ? err.getStatus() : 500;
}

function errorOf(err: unknown): string {
  if (!(err instanceof HttpException)) return 'internal_error';
  const body = err.getResponse();
  const message = typeof body === 'object' && body && 'message' in body ? (body as { message: unknown }).message : body;
  return Array.isArray(message) ? message.join('; ') : String(message);
}
