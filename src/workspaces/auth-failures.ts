import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { SharedBudget } from '../rate-limit/shared-budget.js';

/** Blocked addresses kept before expired ones are swept (a sweep is O(size), so not on every failure). */
const SWEEP_AT = 10_000;

/**
 * Failed authentications per source address (bad user tokens on /api, bad tokens on /admin), shared
 * by every node: past AUTH_FAILURES_PER_MINUTE an address is answered 429 before its token is even
 * looked at, so tokens cannot be guessed at speed.
 *
 * Only failures go to Redis. Each one is counted there (every node draws from one budget) and tells
 * this node whether the address's budget is now used up; the node then blocks the address itself,
 * in memory, until the budget's window ends. So a successful call costs no Redis round trip. A node
 * that has seen no failure of a blocked address learns of the block from its first one, so over N
 * nodes an address gets at most N - 1 more failed tries a window than the budget.
 */
@Injectable()
export class AuthFailures implements OnApplicationShutdown {
  private readonly budget: SharedBudget;
  /** Address -> epoch ms until which it is blocked. */
  private readonly blocked = new Map<string, number>();

  constructor(@Inject(CONFIG) config: Config) {
    this.budget = new SharedBudget(config, `${config.JOBS_PREFIX}:ratelimit:auth-failures`, config.AUTH_FAILURES_PER_MINUTE);
  }

  /** Seconds the address must wait before trying again; undefined when it may try. */
  blockedFor(address: string): number | undefined {
    const until = this.blocked.get(address);
    if (until === undefined) return undefined;
    const ms = until - Date.now();
    if (ms > 0) return Math.max(1, Math.ceil(ms / 1000));
    this.blocked.delete(address);
    return undefined;
  }

  async failed(address: string): Promise<void> {
    const ms = await this.budget.spend(address);
    if (ms === undefined) return;
    const now = Date.now();
    if (this.blocked.size >= SWEEP_AT) for (const [a, until] of this.blocked) if (until <= now) this.blocked.delete(a);
    this.blocked.set(address, now + ms);
  }

  onApplicationShutdown(): void {
    this.budget.close();
  }
}
