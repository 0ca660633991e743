import type { ChannelHead } from './channel.js';
import { SlackError } from './slack-error.js';
import type { Role } from './user.js';

/**
 * The channel rules, in one place: who may do what in a channel, given its head, the caller's
 * membership and role, and (edit, delete) the message's author. Pure: the callers read the facts
 * (under the channel lock where the answer must hold until the append) and act on the decision.
 * post_message() (plpgsql, the hot path) applies the `post` rules itself; the parity test
 * (test/api/post-message-parity.int.spec.ts) pins the two together.
 */

export type ChannelAction =
  | 'read' // info, history, replies, members
  | 'mark' // move one's read marker
  | 'post'
  | 'edit'
  | 'delete'
  | 'join'
  | 'leave'
  | 'invite'
  | 'kick'
  | 'archive'
  | 'unarchive'
  | 'rename' // conversations.rename
  | 'describe' // conversations.setTopic, conversations.setPurpose
  | 'react' // reactions.add/remove (react() in plpgsql applies it; the parity test pins the two)
  | 'pin';

/** The Slack error codes the channel rules answer with. */
export type ChannelRefusal =
  | 'channel_not_found'
  | 'not_in_channel'
  | 'is_archived'
  | 'already_archived'
  | 'not_archived'
  | 'not_authorized'
  | 'method_not_supported_for_channel_type'
  | 'restricted_action'
  | 'message_not_found'
  | 'cant_update_message'
  | 'cant_delete_message';

export interface ChannelFacts {
  /** Undefined when no such channel is in the caller's workspace. */
  head: Pick<ChannelHead, 'is_private' | 'is_archived' | 'creator' | 'kind'> | undefined;
  caller: { id: string; role: Role };
  member: boolean;
  /** edit, delete: the target message (undefined when there is no live message at that ts). */
  message?: { user_id: string };
}

export type Decision = { allowed: true } | { allowed: false; error: ChannelRefusal };

const ALLOWED: Decision = { allowed: true };
const FIXED_MEMBERSHIP = new Set<ChannelAction>(['join', 'leave', 'invite', 'kick', 'archive', 'unarchive', 'rename']);
const refuse = (error: ChannelRefusal): Decision => ({ allowed: false, error });
/** What an analyst may do in a channel: read what members may read (and keep a read marker); nothing else (issue 14). */
const ANALYST_ACTIONS = new Set<ChannelAction>(['read', 'mark']);

export function channelPolicy(action: ChannelAction, { head, caller, member, message }: ChannelFacts): Decision {
  // A private channel does not exist for those outside it.
  if (!head || (head.is_private && !member)) return refuse('channel_not_found');
  // Analysts are read-only on /api: every write is Slack's restricted_action.
  if (caller.role === 'analyst' && !ANALYST_ACTIONS.has(action)) return refuse('restricted_action');
  const isAdmin = caller.role === 'admin';
  // A DM's members are fixed and it has no name or owner: membership and channel-state changes are
  // not methods for it (Slack's code). Inside it, members read, post, react and pin as in a channel.
  if (head.kind && head.kind !== 'channel' && FIXED_MEMBERSHIP.has(action)) return refuse('method_not_supported_for_channel_type');
  switch (action) {
    case 'read':
      return ALLOWED;
    case 'mark':
      return member ? ALLOWED : refuse('not_in_channel');
    case 'post':
    case 'invite':
      if (head.is_archived) return refuse('is_archived');
      return member ? ALLOWED : refuse('not_in_channel');
    case 'join':
    case 'leave': // a non-member leaving is answered `not_in_channel: true`, not refused
      return head.is_archived ? refuse('is_archived') : ALLOWED;
    case 'kick':
      if (head.is_archived) return refuse('is_archived');
      if (!member) return refuse('not_in_channel');
      // Workspace admins and the channel's creator may remove members.
      return isAdmin || head.creator === caller.id ? ALLOWED : refuse('restricted_action');
    case 'archive':
      // Slack's rule: the channel's creator or a workspace admin (issue 14).
      if (!member && !isAdmin) return refuse('not_in_channel');
      if (head.is_archived) return refuse('already_archived');
      return isAdmin || head.creator === caller.id ? ALLOWED : refuse('restricted_action');
    case 'unarchive':
      if (!head.is_archived) return refuse('not_archived');
      return isAdmin || head.creator === caller.id ? ALLOWED : refuse('restricted_action');
    case 'rename':
      if (head.is_archived) return refuse('is_archived');
      if (!member) return refuse('not_in_channel');
      // Slack: the channel's creator or a workspace admin; others are told not_authorized.
      return isAdmin || head.creator === caller.id ? ALLOWED : refuse('not_authorized');
    case 'describe':
    case 'react':
    case 'pin':
      if (head.is_archived) return refuse('is_archived');
      return member ? ALLOWED : refuse('not_in_channel');
    case 'edit':
    case 'delete':
      // The author or a workspace admin, member or not (of a public channel).
      if (head.is_archived) return refuse('is_archived');
      if (!message) return refuse('message_not_found');
      if (message.user_id === caller.id || isAdmin) return ALLOWED;
      return refuse(action === 'edit' ? 'cant_update_message' : 'cant_delete_message');
  }
}

/** conversations.create and conversations.open (a new channel or DM): anyone but an analyst (read-only). */
export function createPolicy(role: Role): Decision {
  return role === 'analyst' ? refuse('restricted_action') : ALLOWED;
}

/**
 * Typing and view signals (socket): they go only to the channel's members and write nothing, so
 * membership is the whole rule; the socket's session knows it from the channels it streams.
 */
export function signalPolicy(member: boolean): Decision {
  return member ? ALLOWED : refuse('not_in_channel');
}

/** Throws the refusal as the Slack error the API answers with. */
export function enforce(decision: Decision): void {
  if (!decision.allowed) throw new SlackError(decision.error);
}
