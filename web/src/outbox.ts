import type { Pending } from './types';

type Emit = (event: string, body: unknown) => Promise<Record<string, unknown>>;

/** Errors that a retry cannot fix: the message waits for the person (retry or discard). */
const FINAL = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'msg_too_long',
  'no_text',
  'restricted_action',
  'invalid_arguments',
  'thread_not_found',
]);

/**
 * Messages written here until the server has them: shown at once as pending, sent one at a time
 * in the order written (so a queue built offline arrives in order), each with its client_msg_id
 * kept for every retry (the server answers a repeated id with the original ts: never doubled).
 * Kept in localStorage, so a reload before the ack loses nothing.
 */
export class Outbox {
  items: Pending[];
  private running = false;
  private online = false;

  constructor(
    user: string,
    private readonly emit: Emit,
    private readonly changed: () => void,
    private readonly sent: (p: Pending, ts: string) => void,
  ) {
    this.key = `atomcast:outbox:${user}`;
    this.items = (JSON.parse(localStorage.getItem(this.key) ?? '[]') as Pending[]).map((p) =>
      p.state === 'sending' ? { ...p, state: 'queued' } : p,
    );
  }
  private readonly key: string;

  add(p: Omit<Pending, 'client_msg_id' | 'state'>): void {
    this.items.push({ ...p, client_msg_id: crypto.randomUUID(), state: 'queued' });
    this.save();
    this.pump();
  }

  /** The message came back as an event (maybe before its ack): it is no longer pending. */
  delivered(clientMsgId: string): void {
    const at = this.items.findIndex((p) => p.client_msg_id === clientMsgId);
    if (at < 0) return;
    this.items.splice(at, 1);
    this.save();
  }

  retry(clientMsgId: string): void {
    const p = this.items.find((i) => i.client_msg_id === clientMsgId);
    if (!p) return;
    p.state = 'queued';
    p.error = undefined;
    this.save();
    this.pump();
  }

  discard(clientMsgId: string): void {
    this.delivered(clientMsgId);
  }

  resume(): void {
    this.online = true;
    this.pump();
  }

  pause(): void {
    this.online = false;
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const next = this.items.find((p) => p.state === 'queued' || p.state === 'sending');
        if (!next || !this.online) return;
        next.state = 'sending';
        this.changed();
        const { channel, text, thread_ts, reply_broadcast, client_msg_id } = next;
        try {
          const ack = await this.emit('post', {
            channel,
            text,
            client_msg_id,
            ...(thread_ts ? { thread_ts, reply_broadcast: !!reply_broadcast } : {}),
          });
          if (this.items.includes(next)) this.sent(next, String(ack.ts));
          this.delivered(client_msg_id);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code && FINAL.has(code)) {
            Object.assign(next, { state: 'failed', error: code });
          } else {
            // Offline, timed out or rate limited: keep it first in line and try again shortly.
            next.state = 'queued';
            this.save();
            this.changed();
            await new Promise((r) => setTimeout(r, code === 'ratelimited' ? 2000 : 500));
          }
        }
        this.save();
        this.changed();
      }
    } finally {
      this.running = false;
    }
  }

  private save(): void {
    localStorage.setItem(this.key, JSON.stringify(this.items));
    this.changed();
  }
}
