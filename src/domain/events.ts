import type { Block } from './block-kit.js';
import type { MessageFile, SlackMessage } from './message.js';

// The events of a channel stream as they leave the store: `{channel, seq, ts, type, user?, ...payload}`
// (DESIGN.md, Socket.IO `event`). One payload type per event type; consumers narrow on `type`.
// The `type` strings are Slack's and on the wire; the interface names say what happened.

interface EventOf<T extends string> {
  channel: string;
  seq: number;
  /** Slack ts ("<seconds>.<6 digits>") of the event itself. */
  ts: string;
  type: T;
  /** Who did it; absent for events the system records (retention redactions, EKM changes). */
  user?: string;
}

export interface ChannelCreated extends EventOf<'channel_created'> {
  name: string;
  is_private: boolean;
  /** Set for a DM (`im`) or group DM (`mpim`); its members' member_joined_channel events follow. */
  kind?: 'im' | 'mpim';
}

export interface MemberJoinedChannel extends EventOf<'member_joined_channel'> {
  /** Set when another member invited the user. */
  inviter?: string;
}

export interface MemberLeftChannel extends EventOf<'member_left_channel'> {
  /** Set when the user was removed by someone else. */
  kicked_by?: string;
}

export interface MessagePosted extends EventOf<'message'> {
  /** Empty for a tombstone (a deleted or expired body keeps its place in the log without text). */
  text: string;
  thread_ts?: string;
  subtype?: 'thread_broadcast' | 'tombstone' | 'me_message';
  client_msg_id?: string;
  /** Files the message shares (files.completeUploadExternal). */
  files?: MessageFile[];
  upload?: boolean;
  /** Block Kit blocks as posted (chat.postMessage `blocks`). */
  blocks?: Block[];
  /** The poster's legacy attachments (and link previews once unfurled). */
  attachments?: SlackMessage['attachments'];
  /** A bot's message: who posted it and any username / icon override (see RichContent). */
  bot_id?: string;
  bot_profile?: SlackMessage['bot_profile'];
  username?: string;
  icons?: SlackMessage['icons'];
}

/**
 * chat.postEphemeral: shown to one user in a channel, never stored and never in the log (no seq);
 * travels between nodes on the ephemeral bus and reaches that user's sockets as `ephemeral`.
 */
export interface EphemeralMessage {
  channel: string;
  /** The one user who sees it. */
  user: string;
  message: SlackMessage & { is_ephemeral: true };
}

export interface MessageChanged extends EventOf<'message_changed'> {
  /** The message as it reads now; undefined when its body is gone (deleted or expired since). */
  message: SlackMessage | undefined;
}

export interface MessageDeleted extends EventOf<'message_deleted'> {
  deleted_ts: string;
  /** 'retention' for expiry; absent when a person deleted it. */
  reason?: 'retention';
}

export type ChannelArchived = EventOf<'channel_archive'>;

export type ChannelUnarchived = EventOf<'channel_unarchive'>;

export interface ChannelRenamed extends EventOf<'channel_rename'> {
  name: string;
}

/** Slack shows these as `message` subtypes in history; in the stream they are events of their own. */
export interface ChannelTopicSet extends EventOf<'channel_topic'> {
  topic: string;
}

export interface ChannelPurposeSet extends EventOf<'channel_purpose'> {
  purpose: string;
}

/** The message a reaction or pin is about, as Slack's `item`. */
export interface MessageItem {
  type: 'message';
  channel: string;
  ts: string;
}

export interface ReactionAdded extends EventOf<'reaction_added'> {
  reaction: string;
  item: MessageItem;
  /** The reacted message's author. */
  item_user: string;
}

export interface ReactionRemoved extends EventOf<'reaction_removed'> {
  reaction: string;
  item: MessageItem;
  item_user: string;
}

export interface PinAdded extends EventOf<'pin_added'> {
  channel_id: string;
  item: MessageItem;
}

export interface PinRemoved extends EventOf<'pin_removed'> {
  channel_id: string;
  item: MessageItem;
}

/** A file was shared in the channel (files.completeUploadExternal), after the message that carries it, as Slack's `file_shared`. */
export interface FileShared extends EventOf<'file_shared'> {
  file_id: string;
  file: { id: string };
  user_id: string;
  channel_id: string;
}

export type ChannelEvent =
  | ChannelCreated
  | MemberJoinedChannel
  | MemberLeftChannel
  | MessagePosted
  | MessageChanged
  | MessageDeleted
  | ChannelArchived
  | ChannelUnarchived
  | ChannelRenamed
  | ChannelTopicSet
  | ChannelPurposeSet
  | ReactionAdded
  | ReactionRemoved
  | PinAdded
  | PinRemoved
  | FileShared;

export type ChannelEventType = ChannelEvent['type'];
