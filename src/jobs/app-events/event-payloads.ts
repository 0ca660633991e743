import type { ChannelEvent } from '../../domain/events.js';

// Stream events → Slack Events API callbacks (`event_callback` bodies), one app at a time.
// Pure: which events an app gets depends only on the event, the app's subscriptions and the
// channels its bot belongs to at that point of the stream.

export interface ChannelFacts {
  workspace: string;
  isPrivate: boolean;
  kind: string; // 'channel' | 'im' | 'mpim'
}

export interface AppView {
  id: string;
  workspace: string;
  botUserId: string;
  subscriptions: ReadonlySet<string>;
}

/** One callback body ready to send, with the log position it came from. */
export interface EventCallback {
  eventId: string;
  /** Where the stream's checkpoint may move once this (and everything before it) is delivered. */
  cursor: string;
  body: Record<string, unknown>;
}

export function channelType(facts: ChannelFacts): 'channel' | 'group' | 'im' | 'mpim' {
  if (facts.kind === 'im') return 'im';
  if (facts.kind === 'mpim') return 'mpim';
  return facts.isPrivate ? 'group' : 'channel';
}

/** Slack names message subscriptions per conversation type: message.channels, .groups, .im, .mpim. */
const MESSAGE_SUBSCRIPTION = { channel: 'message.channels', group: 'message.groups', im: 'message.im', mpim: 'message.mpim' };

/** Every event type an app may subscribe to (the admin API refuses others). */
export const SUBSCRIBABLE = [
  'message',
  ...Object.values(MESSAGE_SUBSCRIPTION),
  'app_mention',
  'reaction_added',
  'reaction_removed',
  'member_joined_channel',
  'member_left_channel',
  'channel_created',
  'channel_rename',
  'channel_archive',
  'channel_unarchive',
  'pin_added',
  'pin_removed',
] as const;

const seconds = (ts: string) => Number(ts.split('.')[0]);

/**
 * The Slack events one stream event means for the app: none when the bot is not a member of the
 * conversation (except a public channel's creation) or the app did not subscribe; two for a message
 * that mentions the bot (`message` and `app_mention`). Never the bot's own messages.
 */
export function slackEventsFor(
  event: ChannelEvent,
  app: AppView,
  facts: ChannelFacts,
  member: boolean,
  botIdOf: (user: string | undefined) => string | undefined,
): { suffix: string; event: Record<string, unknown> }[] {
  if (facts.workspace !== app.workspace) return [];
  const subs = app.subscriptions;
  const type = channelType(facts);
  const wants = (name: string) => subs.has(name);
  if (event.type === 'channel_created') {
    if (facts.isPrivate || facts.kind !== 'channel' || !wants('channel_created')) return [];
    return [
      {
        suffix: '',
        event: {
          type: 'channel_created',
          channel: { id: event.channel, name: event.name, created: seconds(event.ts), creator: event.user },
          event_ts: event.ts,
        },
      },
    ];
  }
  if (!member) return [];
  const base = { channel: event.channel, event_ts: event.ts };
  const messages = wants('message') || wants(MESSAGE_SUBSCRIPTION[type]);
  switch (event.type) {
    case 'message': {
      if (event.subtype === 'tombstone' || event.user === app.botUserId) return [];
      const botId = event.bot_id ?? botIdOf(event.user);
      const message: Record<string, unknown> = {
        type: 'message',
        ...(event.subtype ? { subtype: event.subtype } : {}),
        user: event.user,
        text: event.text,
        ts: event.ts,
        ...(event.thread_ts ? { thread_ts: event.thread_ts } : {}),
        ...(event.client_msg_id ? { client_msg_id: event.client_msg_id } : {}),
        ...(botId ? { bot_id: botId } : {}),
        // What the message carries, as Slack's message event does: the bot's profile and overrides,
        // blocks, attachments and files (stored with the message, read back with the event).
        ...(event.bot_profile ? { bot_profile: event.bot_profile } : {}),
        ...(event.username ? { username: event.username } : {}),
        ...(event.icons ? { icons: event.icons } : {}),
        ...(event.blocks ? { blocks: event.blocks } : {}),
        ...(event.attachments ? { attachments: event.attachments } : {}),
        ...(event.files ? { files: event.files, upload: true } : {}),
        ...base,
        channel_type: type,
      };
      const out = messages ? [{ suffix: '', event: message }] : [];
      if (wants('app_mention') && event.text.includes(`<@${app.botUserId}>`)) {
        const { channel_type: _, subtype: __, ...mention } = message;
        out.push({ suffix: 'M', event: { ...mention, type: 'app_mention' } });
      }
      return out;
    }
    case 'message_changed':
      if (!messages || !event.message || event.message.user === app.botUserId) return [];
      return [
        {
          suffix: '',
          event: {
            type: 'message',
            subtype: 'message_changed',
            hidden: true,
            message: event.message,
            ts: event.ts,
            ...base,
            channel_type: type,
          },
        },
      ];
    case 'message_deleted':
      if (!messages) return [];
      return [
        {
          suffix: '',
          event: {
            type: 'message',
            subtype: 'message_deleted',
            hidden: true,
            deleted_ts: event.deleted_ts,
            ts: event.ts,
            ...base,
            channel_type: type,
          },
        },
      ];
    case 'channel_topic':
    case 'channel_purpose': {
      if (!messages || event.user === app.botUserId) return [];
      const field = event.type === 'channel_topic' ? 'topic' : 'purpose';
      const value = event.type === 'channel_topic' ? event.topic : event.purpose;
      return [
        {
          suffix: '',
          event: {
            type: 'message',
            subtype: event.type,
            user: event.user,
            [field]: value,
            text: `set the channel ${field}: ${value}`,
            ts: event.ts,
            ...base,
            channel_type: type,
          },
        },
      ];
    }
    case 'member_joined_channel':
    case 'member_left_channel':
      if (!wants(event.type)) return [];
      return [
        {
          suffix: '',
          event: {
            type: event.type,
            user: event.user,
            channel: event.channel,
            channel_type: type === 'channel' ? 'C' : 'G',
            team: app.workspace,
            ...(event.type === 'member_joined_channel' && event.inviter ? { inviter: event.inviter } : {}),
            event_ts: event.ts,
          },
        },
      ];
    case 'channel_rename':
      if (!wants('channel_rename')) return [];
      return [{ suffix: '', event: { type: 'channel_rename', channel: { id: event.channel, name: event.name }, event_ts: event.ts } }];
    case 'channel_archive':
    case 'channel_unarchive':
      if (!wants(event.type)) return [];
      return [{ suffix: '', event: { type: event.type, channel: event.channel, user: event.user, event_ts: event.ts } }];
    case 'reaction_added':
    case 'reaction_removed':
      if (!wants(event.type)) return [];
      return [
        {
          suffix: '',
          event: {
            type: event.type,
            user: event.user,
            reaction: event.reaction,
            item_user: event.item_user,
            item: event.item,
            event_ts: event.ts,
          },
        },
      ];
    case 'pin_added':
    case 'pin_removed':
      if (!wants(event.type)) return [];
      return [
        { suffix: '', event: { type: event.type, user: event.user, channel_id: event.channel, item: event.item, event_ts: event.ts } },
      ];
    default:
      return [];
  }
}

/** Slack's `event_callback` envelope around one event; `event_id` is stable across retries and redeliveries. */
export function eventCallback(app: AppView, eventId: string, event: Record<string, unknown>): Record<string, unknown> {
  return {
    token: app.id, // the deprecated verification token; Bolt checks the signature instead
    team_id: app.workspace,
    api_app_id: app.id,
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: seconds(String(event.event_ts ?? '0')),
    authorizations: [{ enterprise_id: null, team_id: app.workspace, user_id: app.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `${app.workspace}-${eventId}`,
  };
}

/** A stable id per (stream event, app event): the channel and seq say which log entry, the suffix which of its events. */
export const eventIdFor = (event: ChannelEvent, suffix: string) => `Ev${event.channel}S${event.seq}${suffix}`;
