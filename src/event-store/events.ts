/** The kinds of event a channel stream holds, named in the past tense. */
export type ChannelEventType =
  | 'channel_created'
  | 'member_joined_channel'
  | 'member_left_channel'
  | 'message'
  | 'message_changed'
  | 'message_deleted'
  | 'channel_archive';

/** One event as it leaves the store: `{channel, seq, ts, type, ...}` (DESIGN.md, Socket.IO `event`). */
export interface ChannelEvent {
  channel: string;
  seq: number;
  ts: string;
  type: ChannelEventType;
  user?: string;
  [field: string]: unknown;
}

/** Position in the global log: the writer's transaction id, then the row's position within it. */
export interface GlobalCursor {
  txId: string;
  position: string;
}

export const START: GlobalCursor = { txId: '0', position: '0' };

export function formatCursor(c: GlobalCursor): string {
  return `${c.txId}-${c.position}`;
}

export function parseCursor(value: string): GlobalCursor | undefined {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(value);
  return m ? { txId: m[1], position: m[2] } : undefined;
}
