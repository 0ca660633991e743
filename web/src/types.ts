// What the client keeps, in the wire's own shapes (Slack's message object, atomcast's channel events).

/** An unfurl card (from_url set) or a poster's legacy attachment (color bar, title, text, fields). */
export interface Attachment {
  id?: number;
  from_url?: string;
  original_url?: string;
  fallback?: string;
  service_name?: string;
  title?: string;
  title_link?: string;
  text?: string;
  image_url?: string;
  color?: string;
  pretext?: string;
  author_name?: string;
  author_link?: string;
  thumb_url?: string;
  footer?: string;
  fields?: Array<{ title?: string; value?: string; short?: boolean }>;
  blocks?: Block[];
}

/** A Block Kit block or element, as the server stores it (checked there against Block Kit). */
export type Block = { type: string; block_id?: string } & Record<string, unknown>;

/** A file shared with a message (files.completeUploadExternal): Slack's file object, or a tombstone once deleted. */
export interface MessageFile {
  id: string;
  mode: 'hosted' | 'tombstone';
  name?: string;
  title?: string;
  mimetype?: string;
  filetype?: string;
  size?: number;
  user?: string;
  url_private?: string;
  url_private_download?: string;
  thumb_360?: string;
  thumb_360_w?: number;
  thumb_360_h?: number;
  /** EKM workspace: the name and title are sealed, so the message does not carry them. */
  ekm?: boolean;
  ekm_access_denied?: boolean;
  pretty_type?: string;
  created?: number;
}

export interface Message {
  ts: string;
  user: string;
  text: string;
  subtype?: string;
  thread_ts?: string;
  reply_count?: number;
  latest_reply?: string;
  client_msg_id?: string;
  edited?: { user: string | null; ts: string };
  attachments?: Attachment[];
  blocks?: Block[];
  files?: MessageFile[];
  /** chat.postEphemeral: shown only to this user, never stored; gone after a reload. */
  is_ephemeral?: boolean;
  /** A bot's message, and the name / icon its poster chose for it (chat.postMessage overrides). */
  bot_id?: string;
  username?: string;
  icons?: { emoji?: string; image_48?: string };
}

/** A message written here and not yet acknowledged by the server. */
export interface Pending {
  client_msg_id: string;
  channel: string;
  text: string;
  thread_ts?: string;
  reply_broadcast?: boolean;
  /** queued: waits for the socket; sending: emitted, no ack yet; failed: the server refused it. */
  state: 'queued' | 'sending' | 'failed';
  error?: string;
}

export interface Channel {
  id: string;
  name: string;
  is_private: boolean;
  is_archived: boolean;
  unread: number;
  mentions: number;
  last_read: string;
}

export interface ChannelEvent {
  channel: string;
  seq: number;
  ts: string;
  type: string;
  user?: string;
  text?: string;
  subtype?: string;
  thread_ts?: string;
  client_msg_id?: string;
  message?: Message;
  deleted_ts?: string;
  name?: string;
  is_private?: boolean;
  attachments?: Attachment[];
  blocks?: Block[];
  files?: MessageFile[];
  bot_id?: string;
  username?: string;
  icons?: { emoji?: string; image_48?: string };
}

export type ConnectionState = 'connecting' | 'catching up' | 'connected' | 'reconnecting';
