import { io, type Socket } from 'socket.io-client';
import type { TestApp, TestUser } from '../support/test-app.js';

export { waitFor } from '../support/wait-for.js';

export interface ReceivedEvent {
  channel: string;
  seq: number;
  ts: string;
  type: string;
  user?: string;
  [key: string]: unknown;
}

type Ack = { ok: boolean; error?: string; [key: string]: unknown };

export interface ConnectOptions {
  /** Cursors sent in the handshake (atomic resume). */
  cursors?: Record<string, number>;
  /** Announce a `sync` in the handshake and send it right away with these cursors. */
  sync?: Record<string, number>;
  /** Wait until the server has read the socket's channels (a `sync {}` round trip). Default true. */
  ready?: boolean;
}

/**
 * A web client: keeps every event it ever received per channel across its connections, so a test
 * can check that each channel's history is exactly 1..N, in order, with no duplicate.
 */
export class TestClient {
  readonly log = new Map<string, number[]>();
  readonly events: ReceivedEvent[] = [];
  readonly typing: Array<{ channel: string; user: string }> = [];
  readonly presence: Array<{ user: string; presence: string }> = [];
  readonly resyncs: Array<{ channel: string; seq: number }> = [];
  readonly counts: Array<{ channel: string; unread_count: number; mention_count: number }> = [];
  socket: Socket | undefined;

  constructor(
    readonly user: TestUser,
    public url: string,
  ) {}

  /** The last seq received per channel: what a client resumes from. */
  cursors(): Record<string, number> {
    return Object.fromEntries([...this.log].map(([channel, seqs]) => [channel, seqs[seqs.length - 1]]));
  }

  seqs(channel: string): number[] {
    return this.log.get(channel) ?? [];
  }

  last(channel: string): number {
    const seqs = this.seqs(channel);
    return seqs.length ? seqs[seqs.length - 1] : 0;
  }

  async connect(options: ConnectOptions = {}): Promise<this> {
    const auth: Record<string, unknown> = { token: this.user.token };
    if (options.cursors) auth.cursors = options.cursors;
    if (options.sync) auth.sync = true;
    const socket = io(this.url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
    this.socket = socket;
    socket.on('event', (e: ReceivedEvent) => {
      this.events.push(e);
      let seqs = this.log.get(e.channel);
      if (!seqs) this.log.set(e.channel, (seqs = []));
      seqs.push(e.seq);
    });
    socket.on('typing', (t: { channel: string; user: string }) => this.typing.push(t));
    socket.on('presence', (p: { user: string; presence: string }) => this.presence.push(p));
    socket.on('resync', (r: { channel: string; seq: number }) => this.resyncs.push(r));
    socket.on('counts', (c: { channel: string; unread_count: number; mention_count: number }) => this.counts.push(c));
    // Emitted before the connection completes: socket.io-client sends it right after the handshake.
    const synced = options.sync ? this.ack('sync', { cursors: options.sync }) : undefined;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    if (synced) {
      const ack = await synced;
      if (!ack.ok) throw new Error(`sync: ${JSON.stringify(ack)}`);
    } else if (options.ready !== false) {
      await this.ack('sync', { cursors: {} });
    }
    return this;
  }

  ack(event: string, payload?: unknown): Promise<Ack> {
    if (!this.socket) throw new Error('not connected');
    return this.socket.timeout(10_000).emitWithAck(event, payload) as Promise<Ack>;
  }

  disconnect(): void {
    this.socket?.disconnect();
    this.socket = undefined;
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }
}

/** Every channel's log is exactly 1..head. */
export function expectComplete(client: TestClient, heads: Map<string, number>): void {
  for (const [channel, head] of heads) {
    const expected = Array.from({ length: head }, (_, i) => i + 1);
    const got = client.seqs(channel);
    if (got.length !== expected.length || got.some((s, i) => s !== expected[i])) {
      throw new Error(`${client.user.id} in ${channel}: expected 1..${head}, got ${describeSeqs(got)}`);
    }
  }
}

export function describeSeqs(seqs: number[]): string {
  const dups = seqs.filter((s, i) => seqs.indexOf(s) !== i);
  const outOfOrder = seqs.findIndex((s, i) => i > 0 && s <= seqs[i - 1]);
  return `${seqs.length} events (first ${seqs.slice(0, 5).join(',')} last ${seqs.slice(-5).join(',')}; dups ${dups.slice(0, 5).join(',') || 'none'}; order break at ${outOfOrder})`;
}

/** Committed heads of the channels. */
export async function heads(t: TestApp, channels: string[]): Promise<Map<string, number>> {
  const { rows } = await t.pool.query<{ id: string; head_seq: string }>('SELECT id, head_seq FROM channels WHERE id = ANY($1)', [channels]);
  return new Map(rows.map((r) => [r.id, Number(r.head_seq)]));
}

/** A small seeded PRNG, so a chaos schedule is the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lets other I/O run for a moment (chaos schedules only; never used to wait for a result). */
export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
