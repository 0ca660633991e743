import {
  Allow,
  IsBoolean,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  MaxLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { slack, ToBoolean } from '../slack-args.js';

export const MAX_TEXT = 40_000;

/** At most `max` characters (code points): an emoji counts once, as in Slack, not as two UTF-16 units. */
function MaxChars(max: number, options?: ValidationOptions) {
  const fits = (value: string) => {
    if (value.length <= max) return true;
    let n = 0;
    for (const _ of value) if (++n > max) return false;
    return true;
  };
  return ValidateBy(
    {
      name: 'maxChars',
      // A non-empty message matters: class-validator attaches the `slack` context only to failures with one.
      validator: { validate: (value) => typeof value === 'string' && fits(value), defaultMessage: () => `longer than ${max} characters` },
    },
    options,
  );
}

export class PostMessageArgs {
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  // Optional when blocks or attachments carry the message (ChatService checks there is content).
  @IsOptional()
  @IsString(slack('no_text'))
  @MaxChars(MAX_TEXT, slack('msg_too_long'))
  text?: string;

  /** Block Kit: a JSON array, or a string holding one (form posts); checked by parseMessageContent. */
  @Allow()
  blocks?: unknown;

  @Allow()
  attachments?: unknown;

  @IsOptional()
  @IsString(slack('thread_not_found'))
  thread_ts?: string;

  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  reply_broadcast?: boolean;

  @IsOptional()
  @IsUUID('all', slack('invalid_arguments'))
  client_msg_id?: string;

  /** Bot tokens only (Slack's chat:write.customize): the name and icon the message shows. */
  @IsOptional()
  @IsString(slack('invalid_arguments'))
  @MaxLength(80, slack('invalid_arguments'))
  username?: string;

  @IsOptional()
  @IsString(slack('invalid_arguments'))
  @MaxLength(100, slack('invalid_arguments'))
  icon_emoji?: string;

  @IsOptional()
  @IsString(slack('invalid_arguments'))
  @MaxLength(2000, slack('invalid_arguments'))
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, slack('invalid_arguments'))
  icon_url?: string;

  /** true: post as the token's own identity, overrides ignored (Slack's rule). */
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  as_user?: boolean;
}

export class UpdateMessageArgs {
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  @IsString(slack('message_not_found'))
  @IsNotEmpty(slack('message_not_found'))
  ts: string;

  @IsOptional()
  @IsString(slack('no_text'))
  @MaxChars(MAX_TEXT, slack('msg_too_long'))
  text?: string;

  /** Left out: the message keeps its blocks (Slack's rule); [] removes them. */
  @Allow()
  blocks?: unknown;

  @Allow()
  attachments?: unknown;
}

export class DeleteMessageArgs {
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  @IsString(slack('message_not_found'))
  @IsNotEmpty(slack('message_not_found'))
  ts: string;
}

export class PostEphemeralArgs {
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  @IsString(slack('user_not_found'))
  @IsNotEmpty(slack('user_not_found'))
  user: string;

  @IsOptional()
  @IsString(slack('no_text'))
  @MaxChars(MAX_TEXT, slack('msg_too_long'))
  text?: string;

  @Allow()
  blocks?: unknown;

  @Allow()
  attachments?: unknown;

  @IsOptional()
  @IsString(slack('thread_not_found'))
  thread_ts?: string;
}

export class MeMessageArgs {
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  @IsString(slack('no_text'))
  @IsNotEmpty(slack('no_text'))
  @MaxChars(MAX_TEXT, slack('msg_too_long'))
  text: string;
}

export class GetPermalinkArgs {
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  @IsString(slack('message_not_found'))
  @IsNotEmpty(slack('message_not_found'))
  message_ts: string;
}
