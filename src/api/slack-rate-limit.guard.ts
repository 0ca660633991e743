import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { CONFIG, type Config } from '../config/config.js';
import { SlackError } from '../domain/slack-error.js';
import type { Caller } from '../workspaces/workspaces.service.js';

/**
 * Per-token request budget on /api (runs after SlackAuthGuard). Counted per node, in memory: cheap
 * on the hot path; with N nodes behind a balancer a token gets at most N times the budget.
 */
// Nest makes one guard instance per module that uses it (client.counts lives in another module than
// chat.*), so the budget is kept per application (per Config) for a token to have a single one.
const limiters = new WeakMap<Config, RateLimiterMemory>();

@Injectable()
export class SlackRateLimitGuard implements CanActivate {
  private readonly limiter: RateLimiterMemory;

  constructor(@Inject(CONFIG) config: Config) {
    let limiter = limiters.get(config);
    if (!limiter) limiters.set(config, (limiter = new RateLimiterMemory({ points: config.RATE_LIMIT_PER_MINUTE, duration: 60 })));
    this.limiter = limiter;
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const caller = ctx.switchToHttp().getRequest<{ caller: Caller }>().caller;
    try {
      await this.limiter.consume(caller.tokenId);
      return true;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      throw new SlackError('ratelimited', 429, { retry_after: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) });
    }
  }
}
