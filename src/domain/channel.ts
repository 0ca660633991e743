import { formatTs } from './ts.js';

/** A channel's head row: what the channel rules and the append path look at. */
export interface ChannelHead {
  id: string;
  workspace_id: string;
  name: string;
  is_private: boolean;
  is_archived: boolean;
  creator: string;
  head_seq: string;
  /** DMs (`im`, 2 people or a self-DM) and group DMs (`mpim`, 3 to 9) are private, with fixed members. */
  kind?: ChannelKind;
}

export type ChannelKind = 'channel' | 'im' | 'mpim';

/** A channel as one user sees it: membership and their read marker come along. */
export interface ChannelRow extends ChannelHead {
  topic: string;
  purpose: string;
  topic_creator?: string;
  topic_last_set?: string;
  purpose_creator?: string;
  purpose_last_set?: string;
  created_at: Date;
  is_member: boolean;
  /** DMs: their members' ids, sorted, comma-joined; the user the row is read for (an IM shows the other one). */
  member_key?: string | null;
  viewer?: string;
  /** DMs: whether the viewer has it open (conversations.open / close). */
  is_open?: boolean | null;
  /** Only when asked for (countMembers): counting is O(members). */
  num_members?: number;
  last_read: string | null;
}

/** Slack's channel name rule: lower case letters, digits, hyphens and underscores, at most 80. */
export function channelNameError(name: string): string | undefined {
  if (!name) return 'invalid_name_required';
  if (name.length > 80) return 'invalid_name_maxlength';
  if (!/^[a-z0-9_-]+$/.test(name)) return 'invalid_name_specials';
  if (!/[a-z0-9]/.test(name)) return 'invalid_name_punctuation';
  return undefined;
}

/** Slack's name of a group DM: its members, lower case. */
export const mpimName = (members: string[]) => `mpdm-${members.map((u) => u.toLowerCase()).join('--')}-1`;

/** A DM as Slack shows it: an IM names the other person (`user`); a group DM has an `mpdm-` name. */
function toSlackDm(row: ChannelRow, created: number): Record<string, unknown> {
  const members = (row.member_key ?? '').split(',');
  const common = {
    id: row.id,
    created,
    is_channel: false,
    is_group: row.kind === 'mpim',
    is_im: row.kind === 'im',
    is_mpim: row.kind === 'mpim',
    is_private: true,
    is_archived: row.is_archived,
    is_org_shared: false,
    is_shared: false,
    context_team_id: row.workspace_id,
    is_member: row.is_member,
    ...(row.is_member ? { is_open: row.is_open ?? true, last_read: formatTs(row.last_read ?? 0) } : {}),
    latest_seq: Number(row.head_seq),
  };
  if (row.kind === 'im') {
    return { ...common, user: members.find((u) => u !== row.viewer) ?? members[0], is_user_deleted: false, priority: 0 };
  }
  const name = mpimName(members);
  return {
    ...common,
    name,
    name_normalized: name,
    creator: row.creator,
    ...(row.num_members !== undefined ? { num_members: row.num_members } : {}),
  };
}

export function toSlackChannel(row: ChannelRow): Record<string, unknown> {
  const created = Math.floor(row.created_at.getTime() / 1000);
  if (row.kind === 'im' || row.kind === 'mpim') return toSlackDm(row, created);
  return {
    id: row.id,
    name: row.name,
    name_normalized: row.name,
    is_channel: !row.is_private,
    is_group: row.is_private,
    is_im: false,
    is_mpim: false,
    is_private: row.is_private,
    is_archived: row.is_archived,
    is_general: false,
    is_shared: false,
    is_org_shared: false,
    is_member: row.is_member,
    created,
    creator: row.creator,
    context_team_id: row.workspace_id,
    ...(row.num_members !== undefined ? { num_members: row.num_members } : {}),
    topic: { value: row.topic, creator: row.topic_creator ?? '', last_set: Number(row.topic_last_set ?? 0) },
    purpose: { value: row.purpose, creator: row.purpose_creator ?? '', last_set: Number(row.purpose_last_set ?? 0) },
    ...(row.is_member ? { last_read: formatTs(row.last_read ?? 0) } : {}),
    latest_seq: Number(row.head_seq),
  };
}
