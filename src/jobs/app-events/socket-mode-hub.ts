import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';

/** One open Socket Mode connection of an app on this node (the ws server implements it). */
export interface AppConnection {
  readonly id: string;
  readonly appId: string;
  /** The app token it opened with: revoking that token closes it. */
  readonly tokenId: string;
  send(message: Record<string, unknown>): void;
  /** Sends `disconnect` with the reason, then closes. */
  close(reason: string): void;
}

type AckHandler = (payload: Record<string, unknown>) => void;

/**
 * The Socket Mode connections of this node, per app, and the envelopes waiting for their ack.
 * Transport-neutral: the ws server adds and removes connections and reports acks; delivery streams
 * and interactivity send envelopes through it. Several connections of one app share the load
 * (round robin).
 */
@Injectable()
export class SocketModeHub {
  private readonly byApp = new Map<string, AppConnection[]>();
  private readonly next = new Map<string, number>();
  private readonly waiting = new Map<string, { conn: string; onAck: AckHandler }>();
  private readonly changeListeners: ((appId: string, conn: AppConnection, open: boolean) => void)[] = [];

  onChange(listener: (appId: string, conn: AppConnection, open: boolean) => void): void {
    this.changeListeners.push(listener);
  }

  add(conn: AppConnection): void {
    this.byApp.set(conn.appId, [...(this.byApp.get(conn.appId) ?? []), conn]);
    for (const l of this.changeListeners) l(conn.appId, conn, true);
  }

  remove(conn: AppConnection): void {
    const left = (this.byApp.get(conn.appId) ?? []).filter((c) => c !== conn);
    if (left.length) this.byApp.set(conn.appId, left);
    else this.byApp.delete(conn.appId);
    for (const [id, w] of this.waiting) if (w.conn === conn.id) this.waiting.delete(id);
    for (const l of this.changeListeners) l(conn.appId, conn, false);
  }

  connections(appId: string): readonly AppConnection[] {
    return this.byApp.get(appId) ?? [];
  }

  /** Sends an envelope on the app's next connection (round robin); undefined when it has none here. */
  send(
    appId: string,
    type: 'events_api' | 'interactive',
    payload: Record<string, unknown>,
    onAck: AckHandler,
    retry?: { attempt: number; reason: string },
  ): { envelopeId: string; conn: AppConnection } | undefined {
    const conns = this.byApp.get(appId);
    if (!conns?.length) return undefined;
    const i = (this.next.get(appId) ?? 0) % conns.length;
    this.next.set(appId, i + 1);
    const conn = conns[i];
    const envelopeId = randomUUID();
    this.waiting.set(envelopeId, { conn: conn.id, onAck });
    conn.send({
      envelope_id: envelopeId,
      payload,
      type,
      accepts_response_payload: type === 'interactive',
      ...(type === 'events_api' ? { retry_attempt: retry?.attempt ?? 0, retry_reason: retry?.reason ?? '' } : {}),
    });
    return { envelopeId, conn };
  }

  /** An ack from a connection: only for an envelope sent on that same connection. */
  ack(conn: AppConnection, envelopeId: unknown, payload: unknown): void {
    if (typeof envelopeId !== 'string') return;
    const w = this.waiting.get(envelopeId);
    if (!w || w.conn !== conn.id) return;
    this.waiting.delete(envelopeId);
    w.onAck(payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : {});
  }

  /** Forgets an envelope nobody will ack (timed out; sent again under a new id). */
  abandon(envelopeId: string): void {
    this.waiting.delete(envelopeId);
  }

  /** Closes every connection opened with one of these (revoked) app tokens. */
  closeTokens(tokenIds: readonly string[], reason: string): void {
    const revoked = new Set(tokenIds);
    for (const conns of [...this.byApp.values()]) for (const c of conns) if (revoked.has(c.tokenId)) c.close(reason);
  }

  /** Every connection gets `disconnect` before this node stops, so apps reconnect elsewhere. */
  closeAll(reason: string): void {
    for (const conns of [...this.byApp.values()]) for (const c of conns) c.close(reason);
  }
}
