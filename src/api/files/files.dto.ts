import { Transform } from 'class-transformer';
import { IsDefined, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { slack, ToInt } from '../slack-args.js';

export class GetUploadUrlArgs {
  @IsString(slack('invalid_arguments'))
  @IsNotEmpty(slack('invalid_arguments'))
  @MaxLength(255, slack('invalid_arguments'))
  filename: string;

  @ToInt()
  @IsInt(slack('invalid_arguments'))
  @Min(0, slack('invalid_arguments'))
  length: number;

  @IsOptional()
  @IsString(slack('invalid_arguments'))
  @MaxLength(1000, slack('invalid_arguments'))
  alt_txt?: string;

  @IsOptional()
  @IsString(slack('invalid_arguments'))
  snippet_type?: string;

  /** Not Slack's: `PUT` asks for a presigned URL of the bucket (S3 driver, workspaces without EKM). */
  @IsOptional()
  @IsIn(['POST', 'PUT'], slack('invalid_arguments'))
  upload_method?: 'POST' | 'PUT';
}

/** One entry of completeUploadExternal's `files` (a JSON array, as a string in a form body). */
export interface CompleteFile {
  id: string;
  title?: string;
}

export class CompleteUploadArgs {
  /** `[{"id": "F…", "title": "…"}]`, a JSON string or (JSON bodies) the array itself. */
  @Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  })
  @IsDefined(slack('invalid_arguments'))
  files: unknown;

  @IsOptional()
  @IsString(slack('channel_not_found'))
  @IsNotEmpty(slack('channel_not_found'))
  channel_id?: string;

  /** Slack's older form: a comma-separated list; only one channel is supported here. */
  @IsOptional()
  @IsString(slack('channel_not_found'))
  channels?: string;

  @IsOptional()
  @IsString(slack('invalid_arguments'))
  @MaxLength(40_000, slack('msg_too_long'))
  initial_comment?: string;

  @IsOptional()
  @IsString(slack('thread_not_found'))
  thread_ts?: string;
}

export class FileArgs {
  @IsString(slack('file_not_found'))
  @IsNotEmpty(slack('file_not_found'))
  file: string;
}

export const FILE_TYPES = ['all', 'spaces', 'snippets', 'images', 'gdocs', 'zips', 'pdfs'] as const;

export class ListFilesArgs {
  @IsOptional()
  @IsString(slack('channel_not_found'))
  channel?: string;

  @IsOptional()
  @IsString(slack('user_not_found'))
  user?: string;

  /** Comma-separated Slack file types (`images,pdfs`); `all` by default. */
  @IsOptional()
  @IsString(slack('invalid_arguments'))
  types?: string;

  @IsOptional()
  @ToInt()
  @IsInt(slack('invalid_arguments'))
  @Min(1, slack('invalid_arguments'))
  count?: number;

  @IsOptional()
  @ToInt()
  @IsInt(slack('invalid_arguments'))
  @Min(1, slack('invalid_arguments'))
  @Max(100_000, slack('invalid_arguments'))
  page?: number;
}
