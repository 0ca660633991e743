import { SlackError } from '../../domain/slack-error.js';
import { NotifySettingsService } from '../../jobs/notify/notify-settings.service.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import { PrefsSetArgs, PushSubscribeArgs, PushUnsubscribeArgs } from './users-notify.dto.js';

/**
 * Notification settings of the caller (README "Notifications"): `users.prefs.get/set` (levels and
 * mutes), `users.push.info/subscribe/unsubscribe` (the devices a service worker registers).
 */
@SlackMethods()
export class UsersNotifyController {
  constructor(private readonly settings: NotifySettingsService) {}

  @SlackMethod('users.prefs.get')
  async prefsGet(@CurrentCaller() caller: Caller) {
    return { prefs: await this.settings.prefs(caller.user.id) };
  }

  @SlackMethod('users.prefs.set')
  async prefsSet(@CurrentCaller() caller: Caller, @SlackArgs() args: PrefsSetArgs) {
    const prefs = await this.settings.set(
      { workspace: caller.workspace, user: caller.user.id },
      { channel: args.channel, notify: args.notify, muted: args.muted },
    );
    return { prefs };
  }

  @SlackMethod('users.push.info')
  async pushInfo(@CurrentCaller() caller: Caller) {
    const key = this.settings.publicKey;
    return { enabled: !!key, vapid_public_key: key ?? '', devices: await this.settings.deviceCount(caller.user.id) };
  }

  @SlackMethod('users.push.subscribe')
  async subscribe(@CurrentCaller() caller: Caller, @SlackArgs() args: PushSubscribeArgs) {
    await this.settings.subscribe(caller.user.id, { endpoint: args.endpoint, p256dh: args.p256dh, auth: args.auth });
    return {};
  }

  @SlackMethod('users.push.unsubscribe')
  async unsubscribe(@CurrentCaller() caller: Caller, @SlackArgs() args: PushUnsubscribeArgs) {
    if (!(await this.settings.unsubscribe(caller.user.id, args.endpoint))) throw new SlackError('not_found');
    return {};
  }
}
