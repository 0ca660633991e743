import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

const TS = /^\d{1,12}(\.\d{1,6})?$/;

class ReplayQuery {
  @ApiPropertyOptional({ description: 'Stop after this many events (default: to the end of the stream)', maximum: 100_000_000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  limit?: number;

  @ApiPropertyOptional({ description: 'Comma-separated event types to keep, e.g. message,message_changed' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]+(,[a-z_]+)*$/, { message: 'types must be comma-separated event types' })
  types?: string;

  @ApiPropertyOptional({ description: 'Keep events with ts >= oldest (Slack ts, inclusive)' })
  @IsOptional()
  @Matches(TS, { message: 'oldest must be a Slack ts' })
  oldest?: string;

  @ApiPropertyOptional({ description: 'Keep events with ts <= latest (Slack ts, inclusive)' })
  @IsOptional()
  @Matches(TS, { message: 'latest must be a Slack ts' })
  latest?: string;
}

export class ChannelEventsQuery extends ReplayQuery {
  @ApiPropertyOptional({ description: 'Events with seq > after_seq', default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after_seq?: number;
}

export class GlobalEventsQuery extends ReplayQuery {
  @ApiPropertyOptional({
    description:
      'Global cursor of the last event seen (each line carries its own): "<tx_id>-<position>" on one server, "<group>:<tx_id>-<position>" per node group joined by "." on Citus',
  })
  @IsOptional()
  @Matches(/^(\d{1,20}-\d{1,20}|\d{1,9}:\d{1,20}-\d{1,20}(\.\d{1,9}:\d{1,20}-\d{1,20}){0,63})$/, {
    message: 'after must be a cursor like 1234-56 (or 1:1234-56.2:987-65 on a cluster)',
  })
  after?: string;

  @ApiPropertyOptional({ description: 'Only this channel' })
  @IsOptional()
  @IsString()
  @Matches(/^C[A-Z0-9]{1,30}$/, { message: 'channel must be a channel id' })
  channel?: string;

  @ApiPropertyOptional({ description: 'Operator only: one workspace (workspace tokens always see their own)' })
  @IsOptional()
  @IsString()
  @Matches(/^T[A-Z0-9]{1,30}$/, { message: 'workspace must be a workspace id' })
  workspace?: string;
}
