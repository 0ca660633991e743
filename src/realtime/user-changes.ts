import { Injectable, Logger } from '@nestjs/common';
import { toSlackUser } from '../domain/user.js';
import { ProfilesService } from '../workspaces/profiles.service.js';
import type { Session } from './session.js';

/**
 * `user_change` by subscription: a socket names the users it has in view (`users.subscribe`,
 * replacing its list, as `presence.subscribe` does) and only those sockets get a user's profile
 * changes. A change is announced once to every node (ephemeral bus); a node with no subscriber of
 * that user does nothing, one with subscribers reads the user once and sends it to them.
 */
@Injectable()
export class UserChanges {
  private readonly logger = new Logger(UserChanges.name);
  private readonly subscribers = new Map<string, Set<Session>>();

  constructor(private readonly profiles: ProfilesService) {}

  /** Replaces the session's user subscriptions with `users` (already checked to be of its workspace). */
  subscribe(session: Session, users: string[]): void {
    this.forget(session);
    for (const user of users) {
      session.userSubscriptions.add(user);
      let set = this.subscribers.get(user);
      if (!set) this.subscribers.set(user, (set = new Set()));
      set.add(session);
    }
  }

  forget(session: Session): void {
    for (const user of session.userSubscriptions) {
      const set = this.subscribers.get(user);
      set?.delete(session);
      if (set && !set.size) this.subscribers.delete(user);
    }
    session.userSubscriptions.clear();
  }

  /** A user changed (any node): its subscribers on this node get `user_change` with the user as it reads now. */
  async changed(user: string): Promise<number> {
    const sessions = this.subscribers.get(user);
    if (!sessions?.size) return 0;
    const [first] = sessions;
    const row = await this.profiles.find(first.caller.workspace, user).catch((err: Error) => {
      this.logger.warn(`user_change read: ${err.message}`);
      return undefined;
    });
    if (!row) return 0;
    const payload = { type: 'user_change', user: toSlackUser(row) };
    let reached = 0;
    for (const session of this.subscribers.get(user) ?? []) {
      session.socket.emit('user_change', payload);
      reached++;
    }
    return reached;
  }
}
