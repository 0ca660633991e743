import { Injectable } from '@nestjs/common';
import { inTransaction } from '../db/database.js';
import { EPHEMERAL_NOTIFY_CHANNEL } from '../db/notify-channels.js';
import { type ProfileChange, ProfilesRepository } from './profiles.repository.js';

export type PresenceState = 'active' | 'away';

/**
 * Profiles, status and manual presence. A change is not broadcast: it is announced once on the
 * ephemeral bus (NOTIFY), and each node pushes `user_change` only to its sockets that subscribed to
 * the user (`users.subscribe`). A status with an expiration leaves a row in the expiry outbox in the
 * same transaction; the job dispatcher turns it into a delayed job that clears it (expireStatus).
 */
@Injectable()
export class ProfilesService {
  /** Whether a user has a live socket anywhere; set by the real-time layer (presence is its state). */
  private connected: (user: string) => boolean = () => false;

  constructor(private readonly repo: ProfilesRepository) {}

  find(workspace: string, user: string) {
    return this.repo.find(workspace, user);
  }

  findMany(workspace: string, users: string[]) {
    return this.repo.findMany(workspace, users);
  }

  findByEmail(workspace: string, email: string) {
    return this.repo.findByEmail(workspace, email);
  }

  async update(user: string, change: ProfileChange) {
    const row = await inTransaction(this.repo.pool, async (tx) => {
      const updated = await this.repo.update(tx, user, change);
      const expiration = change.status_expiration ?? 0;
      if (expiration > 0) await this.repo.recordExpiration(tx, user, expiration);
      return updated;
    });
    await this.announce({ kind: 'user_change', user });
    return row;
  }

  /** The expiry job: clears the status unless it was changed since, and tells the subscribers. */
  async expireStatus(user: string, expiration: number): Promise<boolean> {
    const cleared = await this.repo.clearExpiredStatus(user, expiration);
    if (cleared) await this.announce({ kind: 'user_change', user });
    return cleared;
  }

  async setPresence(user: string, away: boolean): Promise<void> {
    await this.repo.setManualAway(user, away);
    await this.announce({ kind: 'manual_presence', user, away });
  }

  /** Presence as users.getPresence tells it: away when asked for, else active while connected. */
  presence(user: string, manualAway: boolean): PresenceState {
    return !manualAway && this.connected(user) ? 'active' : 'away';
  }

  /** The real-time layer tells where connections are (it tracks them across nodes). */
  setConnectionSource(connected: (user: string) => boolean): void {
    this.connected = connected;
  }

  // Same wire format as EphemeralBus.publish; `node` is not a real node: every node handles it.
  private async announce(signal: { kind: string; user: string; away?: boolean }): Promise<void> {
    await this.repo.notify(EPHEMERAL_NOTIFY_CHANNEL, JSON.stringify({ ...signal, node: 'profiles' })).catch(() => {});
  }
}
