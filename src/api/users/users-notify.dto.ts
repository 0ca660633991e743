import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { slack, ToBoolean } from '../slack-args.js';

export class PrefsSetArgs {
  /** Omitted: the workspace-wide level is set. */
  @IsOptional()
  @IsString(slack('channel_not_found'))
  @Matches(/^[A-Z0-9]{1,32}$/, slack('channel_not_found'))
  channel?: string;

  /** `all`, `mentions` or `nothing`; on a channel also `default` (follow the workspace level). */
  @IsOptional()
  @IsString(slack('invalid_arguments'))
  @IsIn(['all', 'mentions', 'nothing', 'default'], slack('invalid_arguments'))
  notify?: 'all' | 'mentions' | 'nothing' | 'default';

  @IsOptional()
  @ToBoolean()
  @IsBoolean(slack('invalid_arguments'))
  muted?: boolean;
}

export class PushSubscribeArgs {
  /** The PushSubscription's endpoint (https; checked against the SSRF guard). */
  @IsString(slack('invalid_endpoint'))
  @IsNotEmpty(slack('invalid_endpoint'))
  @MaxLength(2048, slack('invalid_endpoint'))
  endpoint: string;

  /** keys.p256dh: the device's P-256 public key, 65 bytes base64url. */
  @IsString(slack('invalid_arguments'))
  @Matches(/^[A-Za-z0-9_-]{86,88}={0,2}$/, slack('invalid_arguments'))
  p256dh: string;

  /** keys.auth: 16 bytes base64url. */
  @IsString(slack('invalid_arguments'))
  @Matches(/^[A-Za-z0-9_-]{22,24}={0,2}$/, slack('invalid_arguments'))
  auth: string;
}

export class PushUnsubscribeArgs {
  @IsString(slack('invalid_endpoint'))
  @IsNotEmpty(slack('invalid_endpoint'))
  @MaxLength(2048, slack('invalid_endpoint'))
  endpoint: string;
}
