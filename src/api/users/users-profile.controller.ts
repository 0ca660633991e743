import { SlackError } from '../../domain/slack-error.js';
import { toSlackProfile, toSlackUser } from '../../domain/user.js';
import { ProfilesService } from '../../workspaces/profiles.service.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import {
  GetPresenceArgs,
  LookupByEmailArgs,
  parseProfileChange,
  ProfileGetArgs,
  ProfileSetArgs,
  SetPresenceArgs,
} from './users-profile.dto.js';

/**
 * users.profile.get/set, users.setPresence/getPresence, users.lookupByEmail. A profile change is
 * pushed only to sockets subscribed to the user (users.subscribe), never to the whole workspace.
 */
@SlackMethods()
export class UsersProfileController {
  constructor(private readonly profiles: ProfilesService) {}

  @SlackMethod('users.profile.get')
  async get(@CurrentCaller() caller: Caller, @SlackArgs() args: ProfileGetArgs) {
    const user = await this.profiles.find(caller.workspace, args.user ?? caller.user.id);
    if (!user) throw new SlackError('user_not_found');
    // The email shows to the workspace's members, as in users.info (Slack's default display setting).
    return { profile: toSlackProfile(user) };
  }

  @SlackMethod('users.profile.set')
  async set(@CurrentCaller() caller: Caller, @SlackArgs() args: ProfileSetArgs) {
    const change = parseProfileChange(args, Math.floor(Date.now() / 1000));
    let target = caller.user.id;
    if (args.user !== undefined && args.user !== caller.user.id) {
      // Slack: only admins change another user's profile, and not another admin's.
      if (caller.user.role !== 'admin') throw new SlackError('not_admin');
      const other = await this.profiles.find(caller.workspace, args.user);
      if (!other) throw new SlackError('user_not_found');
      if (other.role === 'admin') throw new SlackError('cannot_update_admin_user');
      target = other.id;
    }
    const user = await this.profiles.update(target, change);
    return { profile: toSlackProfile(user) };
  }

  @SlackMethod('users.setPresence')
  async setPresence(@CurrentCaller() caller: Caller, @SlackArgs() args: SetPresenceArgs) {
    await this.profiles.setPresence(caller.user.id, args.presence === 'away');
    return {};
  }

  @SlackMethod('users.getPresence')
  async getPresence(@CurrentCaller() caller: Caller, @SlackArgs() args: GetPresenceArgs) {
    const user = await this.profiles.find(caller.workspace, args.user ?? caller.user.id);
    if (!user) throw new SlackError('user_not_found');
    const presence = this.profiles.presence(user.id, user.manual_away);
    if (user.id !== caller.user.id) return { presence };
    return { presence, online: presence === 'active', auto_away: false, manual_away: user.manual_away };
  }

  @SlackMethod('users.lookupByEmail')
  async lookupByEmail(@CurrentCaller() caller: Caller, @SlackArgs() args: LookupByEmailArgs) {
    const user = await this.profiles.findByEmail(caller.workspace, args.email);
    if (!user) throw new SlackError('users_not_found');
    return { user: toSlackUser(user) };
  }
}
