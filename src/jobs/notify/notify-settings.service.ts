import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type Config } from '../../config/config.js';
import { SlackError } from '../../domain/slack-error.js';
import { type NotifyLevel, NotifyRepository } from './notify.repository.js';
import { vetEndpoint } from './push-endpoint.js';

/** Devices kept per user; registering one more drops the oldest. */
export const DEVICES_PER_USER = 20;

export interface NotifyPrefs {
  /** The user's level for the whole workspace. */
  notify: NotifyLevel;
  /** Channel overrides: a level (null: the workspace's) and/or a mute. */
  channels: Array<{ channel: string; notify: NotifyLevel | null; muted: boolean }>;
}

/**
 * The user's side of notifications (the `users.prefs.*` and `users.push.*` Web API methods):
 * preferences and mutes (read by the consumer at each message, so a change applies to the next
 * one), and the devices the web client's service worker registers.
 */
@Injectable()
export class NotifySettingsService {
  constructor(
    private readonly repo: NotifyRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** The VAPID public key the browser subscribes with; undefined when notifications are off. */
  get publicKey(): string | undefined {
    return this.config.VAPID_PUBLIC_KEY;
  }

  async prefs(user: string): Promise<NotifyPrefs> {
    const rows = await this.repo.prefs(user);
    const workspace = rows.find((r) => r.channel_id === '');
    return {
      notify: workspace?.level ?? 'mentions',
      channels: rows.filter((r) => r.channel_id !== '').map((r) => ({ channel: r.channel_id, notify: r.level, muted: r.muted })),
    };
  }

  /**
   * Without `channel`: sets the workspace-wide level. With `channel` (one the caller is in): its
   * level (`default` follows the workspace) and/or its mute.
   */
  async set(
    caller: { workspace: string; user: string },
    change: { channel?: string; notify?: NotifyLevel | 'default'; muted?: boolean },
  ): Promise<NotifyPrefs> {
    if (change.channel === undefined) {
      if (change.muted !== undefined || change.notify === undefined || change.notify === 'default')
        throw new SlackError('invalid_arguments');
      await this.repo.setWorkspaceLevel(caller.user, change.notify);
    } else {
      if (change.notify === undefined && change.muted === undefined) throw new SlackError('invalid_arguments');
      const m = await this.repo.membership(caller.workspace, caller.user, change.channel);
      if (!m.visible) throw new SlackError('channel_not_found');
      if (!m.member) throw new SlackError('not_in_channel');
      const level = change.notify === undefined ? undefined : change.notify === 'default' ? null : change.notify;
      await this.repo.setChannel(caller.user, change.channel, { level, muted: change.muted });
    }
    return this.prefs(caller.user);
  }

  /** Registers a device; its endpoint must pass the SSRF guard now (and again at every send). */
  async subscribe(user: string, s: { endpoint: string; p256dh: string; auth: string }): Promise<void> {
    if (!this.config.VAPID_PUBLIC_KEY) throw new SlackError('push_not_configured');
    const verdict = await vetEndpoint(s.endpoint, {
      allowHttp: this.config.PUSH_ALLOW_HTTP,
      allowLoopback: this.config.PUSH_ALLOW_LOOPBACK,
      allowPrivate: this.config.PUSH_ALLOW_PRIVATE,
    });
    if (!verdict.ok) throw new SlackError('invalid_endpoint', 200, { reason: verdict.reason });
    await this.repo.subscribe(user, s, DEVICES_PER_USER);
  }

  async unsubscribe(user: string, endpoint: string): Promise<boolean> {
    return this.repo.unsubscribe(user, endpoint);
  }

  async deviceCount(user: string): Promise<number> {
    return this.repo.subscriptionCount(user);
  }
}
