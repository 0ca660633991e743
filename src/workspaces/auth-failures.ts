import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { SharedBudget } from '../rate-limit/shared-budget.js';

/**
 * Failed authentications per source address (bad user tokens on /api, bad tokens on /admin), shared
 * by every node: past AUTH_FAILURES_PER_MINUTE an address is answered 429 before its token is even
 * looked at, so tokens cannot be guessed at speed. Successful calls cost nothing here.
 */
@Injectable()
export class AuthFailures implements OnApplicationShutdown {
  private readonly budget: SharedBudget;

  constructor(@Inject(CONFIG) config: Config) {
    this.budget = new SharedBudget(config, `${config.JOBS_PREFIX}:ratelimit:auth-failures`, config.AUTH_FAILURES_PER_MINUTE);
  }

  /** Seconds the address must wait before trying again; undefined when it may try. */
  blockedFor(address: string): Promise<number | undefined> {
    return this.budget.exhausted(address);
  }

  async failed(address: string): Promise<void> {
    await this.budget.consume(address);
  }

  onApplicationShutdown(): void {
    this.budget.close();
  }
}
