import { IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator';
import { slack, ToBoolean, ToInt } from '../slack-args.js';

export class ChannelArgs {
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel: string;
}

export class CreateArgs {
  @IsString(slack('invalid_name_required'))
  @IsNotEmpty(slack('invalid_name_required'))
  name: string;

  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  is_private?: boolean;
}

export class InviteArgs extends ChannelArgs {
  /** Comma-separated user ids. */
  @IsString(slack('no_user'))
  @IsNotEmpty(slack('no_user'))
  users: string;
}

export class KickArgs extends ChannelArgs {
  @IsString(slack('user_not_found'))
  @IsNotEmpty(slack('user_not_found'))
  user: string;
}

export class PageArgs {
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  limit?: number;

  @IsOptional()
  @IsString(slack('invalid_cursor'))
  cursor?: string;
}

export class ListArgs extends PageArgs {
  @IsOptional()
  @IsString()
  types?: string;

  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  exclude_archived?: boolean;
}

export class MembersArgs extends PageArgs {
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel: string;
}

export class HistoryArgs extends MembersArgs {
  @IsOptional()
  @IsString(slack('invalid_ts_oldest'))
  oldest?: string;

  @IsOptional()
  @IsString(slack('invalid_ts_latest'))
  latest?: string;

  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  inclusive?: boolean;
}

export class RepliesArgs extends MembersArgs {
  @IsString(slack('thread_not_found'))
  @IsNotEmpty(slack('thread_not_found'))
  ts: string;
}

export class InfoArgs extends ChannelArgs {
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  include_num_members?: boolean;
}

export class MarkArgs extends ChannelArgs {
  @IsString(slack('invalid_timestamp'))
  @IsNotEmpty(slack('invalid_timestamp'))
  ts: string;
}

export class RenameArgs extends ChannelArgs {
  @IsString(slack('invalid_name_required'))
  @IsNotEmpty(slack('invalid_name_required'))
  name: string;
}

/** An empty topic clears it, as in Slack. */
export class TopicArgs extends ChannelArgs {
  @IsString(slack('invalid_arguments'))
  topic: string;
}

export class PurposeArgs extends ChannelArgs {
  @IsString(slack('invalid_arguments'))
  purpose: string;
}

/** conversations.open: `users` (1 to 8 others, comma-separated) or `channel` (reopen a DM). */
export class OpenArgs {
  @IsOptional()
  @IsString(slack('user_not_found'))
  users?: string;

  @IsOptional()
  @IsString(slack('channel_not_found'))
  channel?: string;

  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  return_im?: boolean;
}

export class UsersConversationsArgs extends ListArgs {
  @IsOptional()
  @IsString(slack('user_not_found'))
  @IsNotEmpty(slack('user_not_found'))
  user?: string;
}
