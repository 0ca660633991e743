import { type CanActivate, type ExecutionContext, Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { SlackError } from '../domain/slack-error.js';
import { SharedBudget } from '../rate-limit/shared-budget.js';
import type { Caller } from '../workspaces/workspaces.service.js';

/**
 * Per-token request budget on /api (runs after SlackAuthGuard), shared by every node through Redis
 * (per node while Redis is unreachable).
 */
// Nest makes one guard instance per module that uses it (client.counts lives in another module than
// chat.*), so the budget is kept per application (per Config) for a token to have a single one.
const budgets = new WeakMap<Config, SharedBudget>();

@Injectable()
export class SlackRateLimitGuard implements CanActivate, OnApplicationShutdown {
  private readonly budget: SharedBudget;

  constructor(@Inject(CONFIG) private readonly config: Config) {
    let budget = budgets.get(config);
    if (!budget)
      budgets.set(config, (budget = new SharedBudget(config, `${config.JOBS_PREFIX}:ratelimit:api`, config.RATE_LIMIT_PER_MINUTE)));
    this.budget = budget;
  }

  // Synchronous while the token's lease has points (nearly every request): Nest then goes on without
  // awaiting a promise.
  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    const caller = ctx.getArgByIndex<{ caller: Caller }>(0).caller;
    return this.budget.tryConsume(caller.tokenId) || this.consume(caller.tokenId);
  }

  private async consume(tokenId: string): Promise<boolean> {
    const retryAfter = await this.budget.consume(tokenId);
    if (retryAfter !== undefined) throw new SlackError('ratelimited', 429, { retry_after: retryAfter });
    return true;
  }

  onApplicationShutdown(): void {
    this.budget.close();
    budgets.delete(this.config);
  }
}
