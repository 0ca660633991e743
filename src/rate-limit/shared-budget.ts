import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * A per-key budget of `points` a minute, counted in Redis so that every node behind a balancer
 * draws from the same one. While Redis is unreachable (or slower than COMMAND_TIMEOUT_MS) each node
 * counts in memory on its own: requests are still limited, at most N times the budget over N
 * nodes, and never wait for Redis.
 */
export class SharedBudget {
  private readonly redis: Redis;
  private readonly limiter: RateLimiterRedis;

  constructor(redisUrl: string, keyPrefix: string, points: number) {
    this.redis = new Redis(redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 1000,
    });
    this.redis.on('error', () => {}); // reconnects by itself; the in-memory limiter stands in meanwhile
    this.limiter = new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix,
      points,
      duration: 60,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration: 60 }),
    });
  }

  /** Takes one point of `key`'s budget: undefined when granted, else the seconds until one is free again. */
  async consume(key: string): Promise<number | undefined> {
    try {
      await this.limiter.consume(key);
      return undefined;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    }
  }

  /**
   * Takes one point of `key`'s budget and says how it stands after that: the milliseconds until the
   * budget is whole again when it is now used up (this point included), else undefined.
   */
  async spend(key: string): Promise<number | undefined> {
    try {
      const res = await this.limiter.consume(key);
      return res.remainingPoints <= 0 ? res.msBeforeNext : undefined;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      return res.msBeforeNext;
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}

const COMMAND_TIMEOUT_MS = 500;
