import { type ChannelAction, type ChannelFacts, channelPolicy, createPolicy, signalPolicy } from './channel-policy.js';
import type { Role } from './user.js';

// given (channel head, membership, role[, message author]) when (action) then (allowed | Slack error).

const ME = 'UME';
type HeadName =
  'none' | 'public' | 'private' | 'public-archived' | 'private-archived' | 'public-mine' | 'public-mine-archived' | 'im' | 'mpim-mine';
const HEADS: Record<HeadName, ChannelFacts['head']> = {
  none: undefined,
  public: { is_private: false, is_archived: false, creator: 'UOTHER' },
  private: { is_private: true, is_archived: false, creator: 'UOTHER' },
  'public-archived': { is_private: false, is_archived: true, creator: 'UOTHER' },
  'private-archived': { is_private: true, is_archived: true, creator: 'UOTHER' },
  'public-mine': { is_private: false, is_archived: false, creator: ME },
  'public-mine-archived': { is_private: false, is_archived: true, creator: ME },
  im: { is_private: true, is_archived: false, creator: 'UOTHER', kind: 'im' },
  'mpim-mine': { is_private: true, is_archived: false, creator: ME, kind: 'mpim' },
};

type Case = [head: HeadName, member: boolean, role: Role, outcome: string, author?: 'mine' | 'theirs' | 'gone'];
const decide = (action: ChannelAction, [head, member, role, , author]: Case) =>
  channelPolicy(action, {
    head: HEADS[head],
    caller: { id: ME, role },
    member,
    message: author === undefined || author === 'gone' ? undefined : { user_id: author === 'mine' ? ME : 'UOTHER' },
  });
const outcome = (d: ReturnType<typeof channelPolicy>) => (d.allowed ? 'allowed' : d.error);

const table: Record<ChannelAction, Case[]> = {
  read: [
    ['none', false, 'admin', 'channel_not_found'],
    ['public', false, 'member', 'allowed'],
    ['public-archived', false, 'analyst', 'allowed'],
    ['private', false, 'admin', 'channel_not_found'], // admins do not see private channels they are not in
    ['private', true, 'member', 'allowed'],
    ['private-archived', true, 'member', 'allowed'],
  ],
  mark: [
    ['none', true, 'member', 'channel_not_found'],
    ['public', false, 'member', 'not_in_channel'],
    ['public', true, 'member', 'allowed'],
    ['public-archived', true, 'member', 'allowed'],
    ['private', false, 'member', 'channel_not_found'],
  ],
  post: [
    ['none', false, 'member', 'channel_not_found'],
    ['public', true, 'member', 'allowed'],
    ['public', true, 'analyst', 'restricted_action'], // analysts are read-only
    ['public', false, 'member', 'not_in_channel'],
    ['public', false, 'admin', 'not_in_channel'],
    ['public-archived', true, 'member', 'is_archived'],
    ['public-archived', false, 'member', 'is_archived'], // archived is said before membership
    ['private', true, 'member', 'allowed'],
    ['private', false, 'admin', 'channel_not_found'],
    ['private-archived', true, 'member', 'is_archived'],
    ['private-archived', false, 'member', 'channel_not_found'],
  ],
  edit: [
    ['none', true, 'member', 'channel_not_found', 'mine'],
    ['public', true, 'member', 'allowed', 'mine'],
    ['public', false, 'member', 'allowed', 'mine'], // an author who left may still edit (public channel)
    ['public', true, 'member', 'cant_update_message', 'theirs'],
    ['public', true, 'analyst', 'restricted_action', 'mine'],
    ['public', false, 'admin', 'allowed', 'theirs'],
    ['public', true, 'member', 'message_not_found', 'gone'],
    ['public-archived', true, 'member', 'is_archived', 'mine'],
    ['public-archived', true, 'member', 'is_archived', 'gone'],
    ['private', false, 'admin', 'channel_not_found', 'theirs'],
    ['private', true, 'admin', 'allowed', 'theirs'],
  ],
  delete: [
    ['none', true, 'admin', 'channel_not_found', 'mine'],
    ['public', true, 'member', 'allowed', 'mine'],
    ['public', true, 'member', 'cant_delete_message', 'theirs'],
    ['public', true, 'admin', 'allowed', 'theirs'],
    ['public', true, 'member', 'message_not_found', 'gone'],
    ['public-archived', true, 'admin', 'is_archived', 'theirs'],
    ['private', false, 'member', 'channel_not_found', 'mine'],
  ],
  join: [
    ['none', false, 'member', 'channel_not_found'],
    ['public', false, 'member', 'allowed'],
    ['public', true, 'member', 'allowed'], // answered with the already_in_channel warning
    ['public-archived', false, 'member', 'is_archived'],
    ['private', false, 'admin', 'channel_not_found'], // private channels are joined by invitation only
  ],
  leave: [
    ['none', true, 'member', 'channel_not_found'],
    ['public', true, 'member', 'allowed'],
    ['public', false, 'member', 'allowed'], // answered `not_in_channel: true`, not refused
    ['public-archived', true, 'member', 'is_archived'],
    ['private', false, 'member', 'channel_not_found'],
  ],
  invite: [
    ['none', true, 'member', 'channel_not_found'],
    ['public', true, 'member', 'allowed'],
    ['public', false, 'admin', 'not_in_channel'],
    ['public-archived', true, 'member', 'is_archived'],
    ['private', true, 'member', 'allowed'],
    ['private', false, 'member', 'channel_not_found'],
  ],
  kick: [
    ['none', true, 'admin', 'channel_not_found'],
    ['public', true, 'member', 'restricted_action'],
    ['public', true, 'analyst', 'restricted_action'],
    ['public', true, 'admin', 'allowed'],
    ['public-mine', true, 'member', 'allowed'], // the channel's creator
    ['public', false, 'admin', 'not_in_channel'],
    ['public-mine-archived', true, 'member', 'is_archived'],
    ['private', false, 'admin', 'channel_not_found'],
  ],
  archive: [
    ['none', true, 'member', 'channel_not_found'],
    ['public', true, 'member', 'restricted_action'], // only the creator or a workspace admin (issue 14)
    ['public-mine', true, 'member', 'allowed'],
    ['public', true, 'admin', 'allowed'],
    ['public', false, 'admin', 'allowed'],
    ['public', false, 'member', 'not_in_channel'],
    ['public-mine-archived', true, 'member', 'already_archived'],
    ['public-archived', true, 'member', 'already_archived'],
    ['public-archived', false, 'member', 'not_in_channel'], // membership is said before the archive state
    ['private', false, 'member', 'channel_not_found'],
    ['private-archived', true, 'member', 'already_archived'],
  ],
  unarchive: [
    ['public-archived', true, 'member', 'restricted_action'],
    ['public-mine-archived', false, 'member', 'allowed'], // the creator, member or not: Slack adds them back
    ['public-archived', false, 'admin', 'allowed'],
    ['public', true, 'admin', 'not_archived'],
    ['private-archived', false, 'admin', 'channel_not_found'],
    ['private-archived', true, 'admin', 'allowed'],
  ],
  rename: [
    ['public', true, 'member', 'not_authorized'],
    ['public-mine', true, 'member', 'allowed'],
    ['public', true, 'admin', 'allowed'],
    ['public', false, 'admin', 'not_in_channel'],
    ['public-mine-archived', true, 'member', 'is_archived'],
    ['private', false, 'admin', 'channel_not_found'],
  ],
  describe: [
    ['public', true, 'member', 'allowed'],
    ['public', false, 'admin', 'not_in_channel'],
    ['public-archived', true, 'member', 'is_archived'],
    ['private', false, 'admin', 'channel_not_found'],
  ],
  react: [
    ['public', true, 'member', 'allowed'],
    ['public', false, 'member', 'not_in_channel'],
    ['public-archived', true, 'member', 'is_archived'],
    ['private', false, 'admin', 'channel_not_found'],
  ],
  pin: [
    ['public', true, 'member', 'allowed'],
    ['public', false, 'admin', 'not_in_channel'],
    ['public-archived', true, 'admin', 'is_archived'],
    ['private', false, 'admin', 'channel_not_found'],
  ],
};

describe('channelPolicy', () => {
  for (const [action, cases] of Object.entries(table) as Array<[ChannelAction, Case[]]>) {
    describe(action, () => {
      const title = ([head, member, role, then, author]: Case) =>
        `${head} channel, ${member ? 'member' : 'not a member'}, ${role}${author ? `, message ${author}` : ''} → ${then}`;
      it.each(cases.map((c) => [title(c), c] as const))('%s', (_, c) => {
        expect(outcome(decide(action, c))).toBe(c[3]);
      });
    });
  }

  // A DM is private with fixed members: outsiders (admins too) do not see it; members use it like a
  // channel, but nobody joins, leaves, invites, kicks, archives or renames it.
  it.each([
    ['read', 'im', false, 'admin', 'channel_not_found'],
    ['mark', 'im', false, 'admin', 'channel_not_found'],
    ['react', 'im', false, 'admin', 'channel_not_found'],
    ['post', 'im', true, 'member', 'allowed'],
    ['react', 'im', true, 'member', 'allowed'],
    ['pin', 'im', true, 'member', 'allowed'],
    ['describe', 'im', true, 'member', 'allowed'],
    ['join', 'im', false, 'admin', 'channel_not_found'],
    ['leave', 'im', true, 'member', 'method_not_supported_for_channel_type'],
    ['invite', 'mpim-mine', true, 'admin', 'method_not_supported_for_channel_type'],
    ['kick', 'mpim-mine', true, 'admin', 'method_not_supported_for_channel_type'],
    ['archive', 'mpim-mine', true, 'admin', 'method_not_supported_for_channel_type'],
    ['unarchive', 'im', true, 'admin', 'method_not_supported_for_channel_type'],
    ['rename', 'mpim-mine', true, 'member', 'method_not_supported_for_channel_type'],
  ] as Array<[ChannelAction, HeadName, boolean, Role, string]>)(
    '%s in a DM (%s, member %s, %s) → %s',
    (action, head, member, role, then) => {
      expect(outcome(decide(action, [head, member, role, then]))).toBe(then);
    },
  );

  it('signals (typing, view) need membership and nothing else', () => {
    expect(outcome(signalPolicy(true))).toBe('allowed');
    expect(outcome(signalPolicy(false))).toBe('not_in_channel');
  });
});

describe('channelPolicy: analysts are read-only (issue 14)', () => {
  const analyst = (action: ChannelAction, head: HeadName = 'public-mine', member = true) =>
    outcome(channelPolicy(action, { head: HEADS[head], caller: { id: ME, role: 'analyst' }, member, message: { user_id: ME } }));
  it('may read what members may read, and keep a read marker', () => {
    expect([analyst('read'), analyst('read', 'public', false), analyst('mark')]).toEqual(['allowed', 'allowed', 'allowed']);
    expect(analyst('read', 'private', false)).toBe('channel_not_found'); // no more than a member
  });
  it.each<ChannelAction>([
    'post',
    'edit',
    'delete',
    'react',
    'pin',
    'join',
    'leave',
    'invite',
    'kick',
    'archive',
    'unarchive',
    'rename',
    'describe',
  ])('may not %s, even as the creator and author: restricted_action', (action) => {
    expect(analyst(action)).toBe('restricted_action');
    expect(analyst(action, 'private', false)).toBe('channel_not_found');
  });
});

describe('createPolicy', () => {
  it('lets members and admins create channels and DMs, not analysts', () => {
    expect([createPolicy('member'), createPolicy('admin'), createPolicy('analyst')].map(outcome)).toEqual([
      'allowed',
      'allowed',
      'restricted_action',
    ]);
  });
});
