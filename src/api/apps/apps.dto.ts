import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { slack } from '../slack-args.js';

export class BotsInfoArgs {
  @IsOptional()
  @IsString(slack('bot_not_found'))
  bot?: string;
}

/** A click on a Block Kit element of an app's message (the web client sends it for the user). */
export class BlockActionArgs {
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  @IsString(slack('message_not_found'))
  @IsNotEmpty(slack('message_not_found'))
  message_ts: string;

  @IsString(slack('invalid_arguments'))
  @IsNotEmpty(slack('invalid_arguments'))
  @MaxLength(255, slack('invalid_arguments'))
  block_id: string;

  @IsString(slack('invalid_arguments'))
  @IsNotEmpty(slack('invalid_arguments'))
  @MaxLength(255, slack('invalid_arguments'))
  action_id: string;

  @IsOptional()
  @IsString(slack('invalid_arguments'))
  @MaxLength(2000, slack('invalid_arguments'))
  value?: string;

  @IsOptional()
  @IsIn(['button', 'static_select', 'overflow', 'checkboxes', 'radio_buttons', 'datepicker'], slack('invalid_arguments'))
  type?: string;

  /** The element's visible text (a button's label), passed back to the app as Slack does. */
  @IsOptional()
  @IsString(slack('invalid_arguments'))
  @MaxLength(2000, slack('invalid_arguments'))
  text?: string;
}
