import { Transform } from 'class-transformer';
import { IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator';
import { slack, ToInt } from '../slack-args.js';
import { PostMessageArgs } from './chat.dto.js';

export class ScheduleMessageArgs extends PostMessageArgs {
  /** Unix seconds (ten digits: ToInt takes at most nine). */
  @Transform(({ value }) => (typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : value))
  @IsInt(slack('invalid_time'))
  @Min(0, slack('invalid_time'))
  post_at: number;
}

export class ListScheduledArgs {
  @IsOptional()
  @IsString(slack('invalid_channel'))
  @IsNotEmpty(slack('invalid_channel'))
  channel?: string;

  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @IsOptional()
  @IsString(slack('invalid_cursor'))
  cursor?: string;
}

export class DeleteScheduledArgs {
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel: string;

  @IsString(slack('invalid_scheduled_message_id'))
  @IsNotEmpty(slack('invalid_scheduled_message_id'))
  scheduled_message_id: string;
}
