import { createRedis, type RedisClient, type RedisConfig } from '../db/redis.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * A per-key budget of `points` a minute, counted in Redis so that every node behind a balancer
 * draws from the same one. While Redis is unreachable (or slower than COMMAND_TIMEOUT_MS) each node
 * counts in memory on its own: requests are still limited, at most N times the budget over N
 * nodes, and never wait for Redis. Each key is one Redis key, so a Redis Cluster serves it as well.
 *
 * `consume` takes points from Redis a lease at a time: 1% of the budget (at least 1, at most
 * MAX_LEASE) in one round trip, then grants from the lease in memory until it is used up or the
 * minute's window ends. So a busy token costs one Redis round trip per lease, not per request; a
 * budget under 200 a minute leases one point at a time (exact across nodes, as before). A node's
 * unused lease is spent for the others: at most N leases of the budget go unused over N nodes.
 * Near the end of a budget a lease no longer fits: it is given back and points are taken one by one.
 */
export class SharedBudget {
  private readonly redis: RedisClient;
  private readonly limiter: RateLimiterRedis;
  private readonly lease: number;
  private readonly leases = new Map<string, Lease>();

  constructor(redis: RedisConfig, keyPrefix: string, points: number) {
    this.lease = Math.max(1, Math.min(MAX_LEASE, Math.floor(points / 100)));
    this.redis = createRedis(redis, {
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

  /**
   * Takes one point from `key`'s lease in memory, without waiting: true when granted so. False means
   * only that consume() must decide (no lease, an empty or expired one, a lease of 1): nothing taken.
   */
  tryConsume(key: string): boolean {
    const lease = this.leases.get(key);
    if (!lease || lease.left <= 0 || lease.until <= Date.now()) return false;
    lease.left--;
    return true;
  }

  /** Takes one point of `key`'s budget: undefined when granted, else the seconds until one is free again. */
  async consume(key: string): Promise<number | undefined> {
    if (this.lease === 1) {
      try {
        await this.limiter.consume(key);
        return undefined;
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        return seconds(res.msBeforeNext);
      }
    }
    for (;;) {
      const now = Date.now();
      let lease = this.leases.get(key);
      if (lease && !lease.pending && lease.until <= now) {
        this.leases.delete(key); // the window is over: what is left of the lease went with it
        lease = undefined;
      }
      if (lease && lease.left > 0) {
        lease.left--;
        return undefined;
      }
      if (lease?.blocked) return seconds(lease.until - now);
      if (!lease) {
        if (this.leases.size >= SWEEP_AT) this.sweep(now);
        this.leases.set(key, (lease = { left: 0, until: 0, blocked: false, single: false }));
      }
      lease.pending ??= this.renew(key, lease).finally(() => (lease.pending = undefined));
      await lease.pending;
    }
  }

  /** One round trip (three near the end of a budget): a lease, or one point, or the news that none is left. */
  private async renew(key: string, lease: Lease): Promise<void> {
    if (!lease.single) {
      try {
        const res = await this.limiter.consume(key, this.lease);
        Object.assign(lease, { left: lease.left + this.lease, until: Date.now() + res.msBeforeNext });
        return;
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        // Fewer points left than a lease: the rejected take still counted, so give it back.
        await this.limiter.reward(key, this.lease).catch(() => {});
        lease.single = true;
      }
    }
    try {
      const res = await this.limiter.consume(key, 1);
      Object.assign(lease, { left: lease.left + 1, until: Date.now() + res.msBeforeNext });
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      Object.assign(lease, { blocked: true, until: Date.now() + res.msBeforeNext });
    }
  }

  private sweep(now: number): void {
    for (const [key, lease] of this.leases) if (!lease.pending && lease.until <= now) this.leases.delete(key);
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
/** The most points one lease takes (a budget of 100,000 a minute and more). */
const MAX_LEASE = 1000;
/** Keys kept before expired leases are swept (a sweep is O(size), so not on every new key). */
const SWEEP_AT = 10_000;

/** Points of one key this node took from Redis and has not granted yet, until the window ends. */
interface Lease {
  left: number;
  /** Epoch ms when the window of the points taken ends (they are void then). */
  until: number;
  /** No point left in the window (until `until`). */
  blocked: boolean;
  /** A lease no longer fits in this window: take points one by one. */
  single: boolean;
  pending?: Promise<void>;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
