import type pg from 'pg';

export const EVENTS_NOTIFY_CHANNEL = 'atomcast_events';
const MAX_PAYLOAD = 7900; // NOTIFY payloads must stay under 8000 bytes

/**
 * The wake-up for the real-time relay. NOTIFY inside an append transaction would take PostgreSQL's
 * database-wide notify lock at every commit, so committed (channel, seq) pairs are collected here
 * and sent after commit, many per NOTIFY, `intervalMs` after the first of them. One NOTIFY round is
 * in flight at a time: what commits meanwhile goes out whole in the next round, so under load the
 * rounds grow instead of queueing one statement per interval. Delivery never depends on it: the
 * relay reads the stream by seq, so a hint that is lost only delays delivery until the next one.
 */
export class FanoutHint {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  private flushing: Promise<void> = Promise.resolve();
  /** In-process readers (this node's relay): told at once, without waiting for the NOTIFY round trip. */
  private readonly local: Array<(channel: string, seq: number) => void> = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly intervalMs: number,
  ) {}

  onNote(listener: (channel: string, seq: number) => void): void {
    this.local.push(listener);
  }

  /** Called after commit only: nothing uncommitted is ever announced. */
  note(channel: string, seq: number): void {
    for (const listener of this.local) listener(channel, seq);
    if ((this.pending.get(channel) ?? 0) < seq) this.pending.set(channel, seq);
    this.schedule();
  }

  /** Sends everything noted so far (after the round in flight, if any). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(() => this.send());
    return this.flushing;
  }

  private schedule(): void {
    if (!this.sending && this.pending.size) this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  private async send(): Promise<void> {
    if (!this.pending.size) return;
    const payloads = chunk([...this.pending].map(([channel, seq]) => `${channel}:${seq}`));
    this.pending.clear();
    this.sending = true;
    try {
      for (const payload of payloads) {
        await this.pool.query('SELECT pg_notify($1, $2)', [EVENTS_NOTIFY_CHANNEL, payload]).catch(() => {
          // The relay repairs a lost hint from the stream; nothing to retry here.
        });
      }
    } finally {
      this.sending = false;
      this.schedule();
    }
  }
}

function chunk(pairs: string[]): string[] {
  const out: string[] = [];
  let current = '';
  for (const pair of pairs) {
    if (current && current.length + pair.length + 1 > MAX_PAYLOAD) {
      out.push(current);
      current = '';
    }
    current = current ? `${current},${pair}` : pair;
  }
  if (current) out.push(current);
  return out;
}

/** Parses a hint payload back into (channel, seq) pairs; malformed parts are ignored. */
export function parseHint(payload: string): Array<{ channel: string; seq: number }> {
  return payload
    .split(',')
    .map((part) => /^([A-Z0-9]+):(\d+)$/.exec(part))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ channel: m[1], seq: Number(m[2]) }));
}
