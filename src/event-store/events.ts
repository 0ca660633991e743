export type { ChannelEvent, ChannelEventType } from '../domain/events.js';

/**
 * What each event type stores in `events.data` when appended (what readers get is the event union
 * of domain/events.ts, with bodies joined in). `message` is appended only by post_message().
 */
export interface StoredData {
  channel_created: { name: string; is_private: boolean; kind?: 'im' | 'mpim' };
  member_joined_channel: { inviter?: string };
  member_left_channel: { kicked_by?: string };
  /** `unfurl`: previews were added; `ekm`: an EKM revocation change covered the body (neither is read back). */
  message_changed: { message_ts: number; unfurl?: true; ekm?: unknown };
  message_deleted: { message_ts: number; reason?: 'retention' };
  channel_archive: Record<string, never>;
  channel_unarchive: Record<string, never>;
  channel_rename: { name: string };
  channel_topic: { topic: string };
  channel_purpose: { purpose: string };
  /** `reaction_*` are appended only by react() (plpgsql). */
  reaction_added: { reaction: string; item_ts: number; item_user: string };
  reaction_removed: { reaction: string; item_ts: number; item_user: string };
  pin_added: { item_ts: number };
  pin_removed: { item_ts: number };
  file_shared: { file_id: string };
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
