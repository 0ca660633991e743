export type Role = 'member' | 'admin' | 'analyst';

export interface UserRow {
  id: string;
  workspace_id: string;
  name: string;
  real_name: string;
  role: Role;
  deleted: boolean;
  created_at: Date;
  /** Profile columns (users.profile.*); absent where a query did not read them (token checks). */
  email?: string | null;
  display_name?: string;
  title?: string;
  status_text?: string;
  status_emoji?: string;
  /** Unix seconds as a string (bigint); '0': the status does not expire. */
  status_expiration?: string;
  avatar_url?: string;
  profile_updated_at?: Date;
  /** Set for an app's bot user (B...). */
  bot_id?: string | null;
}

/**
 * Slack's `profile` object. A status whose expiration has passed reads as cleared even before the
 * expiry job has cleared it, so no reader ever sees a stale status.
 */
export function toSlackProfile(u: UserRow, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const expiration = Number(u.status_expiration ?? 0);
  const expired = expiration > 0 && expiration <= nowSeconds;
  const avatar = u.avatar_url ?? '';
  return {
    real_name: u.real_name,
    display_name: u.display_name ?? u.name,
    real_name_normalized: u.real_name,
    display_name_normalized: u.display_name ?? u.name,
    title: u.title ?? '',
    email: u.email ?? undefined,
    status_text: expired ? '' : (u.status_text ?? ''),
    status_emoji: expired ? '' : (u.status_emoji ?? ''),
    status_expiration: expired ? 0 : expiration,
    image_original: avatar || undefined,
    image_72: avatar || undefined,
    image_192: avatar || undefined,
    team: u.workspace_id,
    ...(u.bot_id ? { bot_id: u.bot_id, always_active: true } : {}),
  };
}

export function toSlackUser(u: UserRow): Record<string, unknown> {
  return {
    id: u.id,
    team_id: u.workspace_id,
    name: u.name,
    real_name: u.real_name,
    deleted: u.deleted,
    is_admin: u.role === 'admin',
    is_owner: false,
    is_bot: Boolean(u.bot_id),
    is_app_user: false,
    profile: toSlackProfile(u),
    updated: Math.floor((u.profile_updated_at ?? u.created_at).getTime() / 1000),
  };
}
