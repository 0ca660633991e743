import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { slack, ToBoolean, ToInt } from '../slack-args.js';

/** search.messages / search.all arguments, as Slack takes them. */
export class SearchArgs {
  @IsString(slack('no_query'))
  @MaxLength(2000, slack('invalid_arguments'))
  query: string;

  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(100)
  count?: number;

  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(100)
  page?: number;

  @IsOptional()
  @IsString(slack('invalid_cursor'))
  cursor?: string;

  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  highlight?: boolean;

  @IsOptional()
  @IsIn(['score', 'timestamp'])
  sort?: 'score' | 'timestamp';

  @IsOptional()
  @IsIn(['asc', 'desc'])
  sort_dir?: 'asc' | 'desc';

  @IsOptional()
  @IsString()
  team_id?: string;
}
