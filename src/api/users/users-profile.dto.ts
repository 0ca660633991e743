import { IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { SlackError } from '../../domain/slack-error.js';
import type { ProfileChange } from '../../workspaces/profiles.repository.js';
import { slack } from '../slack-args.js';

export class ProfileGetArgs {
  @IsOptional()
  @IsString(slack('user_not_found'))
  @IsNotEmpty(slack('user_not_found'))
  user?: string;
}

/** users.profile.set: `profile` (a JSON object, or its JSON text in a form field), or one `name` + `value`. */
export class ProfileSetArgs {
  @IsOptional()
  profile?: unknown;

  @IsOptional()
  @IsString(slack('invalid_profile'))
  @MaxLength(64, slack('invalid_profile'))
  name?: string;

  @IsOptional()
  @IsString(slack('invalid_profile'))
  value?: string;

  /** Another user's id: workspace admins only, and not another admin's (Slack's rules). */
  @IsOptional()
  @IsString(slack('user_not_found'))
  user?: string;
}

export class SetPresenceArgs {
  @IsString(slack('invalid_presence'))
  @IsIn(['auto', 'away'], slack('invalid_presence'))
  presence: 'auto' | 'away';
}

export class GetPresenceArgs {
  @IsOptional()
  @IsString(slack('user_not_found'))
  @IsNotEmpty(slack('user_not_found'))
  user?: string;
}

export class LookupByEmailArgs {
  @IsString(slack('invalid_email'))
  @MaxLength(254, slack('invalid_email'))
  @IsEmail({}, slack('users_not_found'))
  email: string;
}

/** Field lengths (characters) Slack documents for profile fields. */
const LIMITS: Record<keyof ProfileChange, number> = {
  display_name: 80,
  real_name: 80,
  title: 250,
  status_text: 100,
  status_emoji: 100,
  status_expiration: 0,
  avatar_url: 2000,
};

const EMOJI = /^(:[a-z0-9_+'-]{1,98}:)?$/;

/**
 * The change users.profile.set asks for, validated whole before anything is written: unknown
 * fields, wrong types, over-long values and a bad status emoji are `invalid_profile`; an empty
 * change is `invalid_profile` too.
 */
export function parseProfileChange(args: ProfileSetArgs, nowSeconds: number): ProfileChange {
  let raw: Record<string, unknown>;
  if (args.profile !== undefined) {
    let value = args.profile;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        throw new SlackError('invalid_profile');
      }
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SlackError('invalid_profile');
    raw = value as Record<string, unknown>;
  } else if (args.name !== undefined && args.value !== undefined) {
    raw = { [args.name]: args.name === 'status_expiration' ? Number(args.value) : args.value };
  } else throw new SlackError('invalid_profile');
  const change: ProfileChange = {};
  const entries = Object.entries(raw);
  if (!entries.length) throw new SlackError('invalid_profile');
  for (const [key, value] of entries) {
    if (!Object.hasOwn(LIMITS, key)) throw new SlackError('invalid_profile');
    const field = key as keyof ProfileChange;
    if (field === 'status_expiration') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new SlackError('invalid_profile');
      // An expiration already past clears nothing and would read as no status: refused rather than guessed at.
      if (value !== 0 && value <= nowSeconds) throw new SlackError('invalid_profile');
      change.status_expiration = value;
      continue;
    }
    if (typeof value !== 'string' || [...value].length > LIMITS[field] || value.includes('\u0000')) throw new SlackError('invalid_profile');
    if (field === 'status_emoji' && !EMOJI.test(value)) throw new SlackError('invalid_profile');
    if (field === 'avatar_url' && value !== '' && !/^https:\/\/[^\s]+$/.test(value)) throw new SlackError('invalid_profile');
    change[field] = value;
  }
  // Clearing the status text and emoji clears its expiration too (Slack does the same).
  if (change.status_text === '' && change.status_emoji === '' && change.status_expiration === undefined) change.status_expiration = 0;
  return change;
}
