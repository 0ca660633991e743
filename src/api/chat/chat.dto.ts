import { IsBoolean, IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { slack, ToBoolean } from '../slack-args.js';

export const MAX_TEXT = 40_000;

export class PostMessageArgs {
  @IsString(slack('channel_not_found')) @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  @IsString(slack('no_text')) @IsNotEmpty(slack('no_text')) @MaxLength(MAX_TEXT, slack('msg_too_long'))
  text: string;

  @IsOptional() @IsString(slack('invalid_thread_ts'))
  thread_ts?: string;

  @IsOptional() @ToBoolean() @IsBoolean()
  reply_broadcast?: boolean;

  @IsOptional() @IsUUID('all', slack('invalid_arguments'))
  client_msg_id?: string;
}

export class UpdateMessageArgs {
  @IsString(slack('channel_not_found')) @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  @IsString(slack('message_not_found')) @IsNotEmpty(slack('message_not_found'))
  ts: string;

  @IsString(slack('no_text')) @IsNotEmpty(slack('no_text')) @MaxLength(MAX_TEXT, slack('msg_too_long'))
  text: string;
}

export class DeleteMessageArgs {
  @IsString(slack('channel_not_found')) @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  @IsString(slack('message_not_found')) @IsNotEmpty(slack('message_not_found'))
  ts: string;
}
