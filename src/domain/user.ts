export type Role = 'member' | 'admin' | 'analyst';

export interface UserRow {
  id: string;
  workspace_id: string;
  name: string;
  real_name: string;
  role: Role;
  deleted: boolean;
  created_at: Date;
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
    is_bot: false,
    is_app_user: false,
    profile: { real_name: u.real_name, display_name: u.name, team: u.workspace_id },
    updated: Math.floor(u.created_at.getTime() / 1000),
  };
}
