import { IsBoolean, IsNotEmpty, IsOptional, IsString } from 'class-validator';
import { PageArgs } from '../conversations/conversations.dto.js';
import { slack, ToBoolean } from '../slack-args.js';

/** A message of a channel, as reactions.* and pins.* name it. */
export class ItemArgs {
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  @IsString(slack('message_not_found'))
  @IsNotEmpty(slack('message_not_found'))
  timestamp: string;
}

export class ReactArgs extends ItemArgs {
  @IsString(slack('invalid_name'))
  @IsNotEmpty(slack('invalid_name'))
  name: string;
}

export class GetReactionsArgs extends ItemArgs {
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  full?: boolean;
}

export class ListReactionsArgs extends PageArgs {
  @IsOptional()
  @IsString(slack('user_not_found'))
  @IsNotEmpty(slack('user_not_found'))
  user?: string;
}
