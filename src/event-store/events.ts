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

/** One (transaction id, position) pair: the whole cursor on one server, one node's part on Citus. */
export interface CursorPart {
  txId: string;
  position: string;
}

/**
 * Position in the global log: the writer's transaction id, then the row's position within it. On
 * Citus every worker has its own transaction ids and snapshots, so the cursor has one part per node
 * group (`parts`, keyed by group id) and `txId`/`position` stay '0'; see docs/scaling.md.
 */
export interface GlobalCursor extends CursorPart {
  parts?: Readonly<Record<string, CursorPart>>;
}

export const START: GlobalCursor = { txId: '0', position: '0' };

const PART = /^(\d{1,20})-(\d{1,20})$/;
const GROUP_PART = /^(\d{1,9}):(\d{1,20})-(\d{1,20})$/;

/** One server: "<tx_id>-<position>". Citus: "<group>:<tx_id>-<position>" per node group, joined by "." */
export function formatCursor(c: GlobalCursor): string {
  if (!c.parts) return `${c.txId}-${c.position}`;
  const groups = Object.keys(c.parts).sort((a, b) => Number(a) - Number(b));
  return groups.length ? groups.map((g) => `${g}:${c.parts![g].txId}-${c.parts![g].position}`).join('.') : '0-0';
}

export function parseCursor(value: string): GlobalCursor | undefined {
  const m = PART.exec(value);
  if (m) return { txId: m[1], position: m[2] };
  if (value.length > 2000) return undefined;
  const parts: Record<string, CursorPart> = {};
  for (const piece of value.split('.')) {
    const g = GROUP_PART.exec(piece);
    if (!g || parts[String(Number(g[1]))]) return undefined;
    parts[String(Number(g[1]))] = { txId: g[2], position: g[3] };
  }
  return { ...START, parts };
}

/** The part of `cursor` for node group `group` (a single-server cursor is group 0's part). */
export function cursorPart(cursor: GlobalCursor, group: string): CursorPart {
  if (cursor.parts) return cursor.parts[group] ?? START;
  return group === '0' ? { txId: cursor.txId, position: cursor.position } : START;
}

/** Whether `a` is behind `b` in any part (b: the newest committed event of each part). */
export function cursorBehind(a: GlobalCursor, b: GlobalCursor): boolean {
  const groups = b.parts ? Object.keys(b.parts) : ['0'];
  return groups.some((g) => partBefore(cursorPart(a, g), cursorPart(b, g)));
}

export function partBefore(a: CursorPart, b: CursorPart): boolean {
  const ax = BigInt(a.txId);
  const bx = BigInt(b.txId);
  return ax < bx || (ax === bx && BigInt(a.position) < BigInt(b.position));
}
