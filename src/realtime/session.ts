import type { Socket } from 'socket.io';
import type { Caller } from '../workspaces/workspaces.service.js';

/**
 * One socket's position in one channel.
 * - `live`: in the channel's room; its cursor is the relay's `delivered` (every broadcast reaches it).
 * - `explicit`: outside the room with its own cursor, catching up from the store (or waiting for the
 *   relay to reach its cursor); it joins the room when its cursor equals the relay's.
 * - `stalled`: told to re-sync because it fell too far behind; nothing is sent until it does.
 * - `held`: the client said it will `sync` first; nothing is sent until it does.
 */
export interface Stream {
  readonly session: Session;
  readonly channel: string;
  mode: 'live' | 'explicit' | 'stalled' | 'held';
  cursor: number;
  /** The cursor the stream started from: nothing was sent while the cursor still equals it. */
  start: number;
  reading: boolean;
}

/** A connected socket: who it is, where it stands in each of its channels, what it looks at. */
export class Session {
  readonly streams = new Map<string, Stream>();
  /** Seq of the last member_left_channel seen for this user per channel (stale membership reads lose to it). */
  readonly leftAt = new Map<string, number>();
  /** Joins seen while the membership snapshot was being read. */
  readonly pendingJoins = new Map<string, number>();
  readonly subscriptions = new Set<string>();
  /** Users whose profile changes this socket gets (`users.subscribe`). */
  readonly userSubscriptions = new Set<string>();
  /** Channels whose metadata changes this socket gets (`channels.subscribe`). */
  readonly channelSubscriptions = new Set<string>();
  viewing: string | undefined;
  /** When the user last did something on this socket (presence goes away when all sockets idle). */
  lastActive = 0;
  initializing = true;
  closed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly socket: Socket,
    readonly caller: Caller,
  ) {}

  /** The session streams exactly the channels its user is a member of (delivery keeps it so). */
  isMember(channel: string): boolean {
    return this.streams.has(channel);
  }

  get user(): string {
    return this.caller.user.id;
  }

  /** Runs client commands one after another, after the session's initialization. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => {});
    return next;
  }
}

export const room = (channel: string) => `c:${channel}`;

/** Bytes and packets written to the socket but not yet taken by the network. */
export function unsent(socket: Socket): { bytes: number; packets: number } {
  const conn = socket.conn as unknown as { writeBuffer?: unknown[]; transport?: { socket?: { bufferedAmount?: number } } };
  return { bytes: conn.transport?.socket?.bufferedAmount ?? 0, packets: conn.writeBuffer?.length ?? 0 };
}
