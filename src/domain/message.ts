import type { Block } from './block-kit.js';
import { type BotProfile, botIdentity, type LegacyAttachment, type MessageIcons, type RichContent } from './message-content.js';
import { formatTs } from './ts.js';

/** A row of the messages table (bodies and thread state), as selected by the repositories. */
export interface MessageRow {
  channel_id: string;
  seq: string;
  ts: string;
  user_id: string;
  text: string | null;
  thread_ts: string | null;
  reply_broadcast: boolean;
  reply_count: number;
  latest_reply: string | null;
  edited_ts: string | null;
  edited_by: string | null;
  client_msg_id: string | null;
  deleted: boolean;
  /** Link previews added by the unfurler; null until a link in the message was unfurled. */
  attachments: MessageAttachment[] | null;
  /** Files the message shares (files.completeUploadExternal), as its `files` shows them; null: none. */
  files?: MessageFile[] | null;
  /** Blocks, legacy attachments and subtype the poster sent (plaintext workspaces; sealed with the text under EKM). */
  rich?: RichContent | null;
  /** EKM: the sealed body and its data key (text is then null in the table until opened). */
  body_enc?: Buffer | string | null;
  data_key_id?: string | null;
  /** Set when opening: the customer revoked access to this body. */
  ekm_denied?: boolean;
}

/** A Slack link-preview attachment, as stored on the message row and sent to clients. */
export interface MessageAttachment {
  id: number;
  from_url: string;
  original_url: string;
  fallback: string;
  service_name: string;
  title?: string;
  title_link?: string;
  text?: string;
  image_url?: string;
}

/**
 * A file as a message's `files` entry shows it (Slack's file object, the parts that do not change):
 * in an EKM workspace without name and title (`ekm: true`; files.info opens them), and after
 * files.delete a tombstone `{id, mode: 'tombstone'}`.
 */
export interface MessageFile {
  id: string;
  mode: 'hosted' | 'tombstone';
  [field: string]: unknown;
}

export const MESSAGE_COLUMNS =
  'channel_id, seq, ts, user_id, text, thread_ts, reply_broadcast, reply_count, latest_reply, edited_ts, edited_by, client_msg_id, deleted, attachments, rich, body_enc, data_key_id, files';

/** Slack's message object, as history, replies and `message_changed` events carry it. */
export interface SlackMessage {
  type: 'message';
  user: string;
  text: string;
  ts: string;
  subtype?: 'thread_broadcast' | 'ekm_access_denied' | 'me_message';
  client_msg_id?: string;
  /** Block Kit blocks, as posted. */
  blocks?: Block[];
  thread_ts?: string;
  reply_count?: number;
  latest_reply?: string;
  edited?: { user: string | null; ts: string };
  /** The poster's attachments first, then link previews the unfurler added. */
  attachments?: Array<LegacyAttachment | MessageAttachment>;
  /** Files shared with the message (files.completeUploadExternal); `upload` is set with them, as Slack does. */
  files?: MessageFile[];
  upload?: boolean;
  /** Emoji reactions, one entry per emoji (reactions.add). */
  reactions?: Array<{ name: string; users: string[]; count: number }>;
  /** The channels the message is pinned in (pins.add). */
  pinned_to?: string[];
  /** A bot's message (stored with it, see RichContent). */
  bot_id?: string;
  bot_profile?: BotProfile;
  username?: string;
  icons?: MessageIcons;
}

/** What Slack shows in place of a body whose key the customer revoked (EKM). */
export const EKM_DENIED_TEXT = "Your admins have suspended everyone's access to this content.";

/**
 * What stands in for a deleted thread parent while replies remain, as Slack shows it: no text, no
 * author, only the thread summary, so the replies stay reachable.
 */
export function toSlackTombstone(row: MessageRow): Record<string, unknown> {
  const ts = formatTs(row.ts);
  const msg: Record<string, unknown> = {
    type: 'message',
    subtype: 'tombstone',
    hidden: true,
    user: 'USLACKBOT',
    text: 'This message was deleted.',
    ts,
    thread_ts: ts,
    reply_count: row.reply_count,
  };
  if (row.latest_reply) msg.latest_reply = formatTs(row.latest_reply);
  return msg;
}

/** A message as the history and replies listings show it: deleted parents become tombstones. */
export const toListedMessage = (row: MessageRow) => (row.deleted ? toSlackTombstone(row) : toSlackMessage(row));

/** Slack's message object. A deleted message keeps no text. */
export function toSlackMessage(row: MessageRow): SlackMessage {
  const msg: SlackMessage = { type: 'message', user: row.user_id, text: row.deleted ? '' : (row.text ?? ''), ts: formatTs(row.ts) };
  if (row.ekm_denied && !row.deleted) Object.assign(msg, { subtype: 'ekm_access_denied', text: EKM_DENIED_TEXT });
  if (row.client_msg_id) msg.client_msg_id = row.client_msg_id;
  if (row.thread_ts) {
    msg.thread_ts = formatTs(row.thread_ts);
    if (row.reply_broadcast) msg.subtype = 'thread_broadcast';
  } else if (row.reply_count > 0 || row.latest_reply) {
    msg.thread_ts = msg.ts;
    msg.reply_count = row.reply_count;
    if (row.latest_reply) msg.latest_reply = formatTs(row.latest_reply);
  }
  if (row.edited_ts) msg.edited = { user: row.edited_by, ts: formatTs(row.edited_ts) };
  const rich = row.deleted || row.ekm_denied ? undefined : row.rich;
  if (rich?.subtype && !msg.subtype) msg.subtype = rich.subtype;
  if (rich?.blocks?.length) msg.blocks = rich.blocks;
  // Who posted stays known even once the body is gone (a bot's tombstone is still the bot's).
  Object.assign(msg, botIdentity(row.rich ?? undefined));
  const attachments = [...(rich?.attachments ?? []), ...(row.deleted || row.ekm_denied ? [] : (row.attachments ?? []))];
  if (attachments.length) msg.attachments = attachments;
  if (!row.deleted && row.files?.length) Object.assign(msg, { files: row.files, upload: true });
  return msg;
}
