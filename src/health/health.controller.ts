import { Controller, Get, HttpCode, Inject, type OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { PG_POOL } from '../db/database.module.js';

@Controller()
export class HealthController implements OnModuleDestroy {
  private readonly redis: Redis;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(CONFIG) config: Config,
  ) {
    // Fail fast instead of queueing: readiness must answer now.
    this.redis = new Redis(config.REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1000 });
    this.redis.on('error', () => {});
  }

  /** Liveness: the process answers. */
  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: PostgreSQL and Redis both answer. */
  @Get('readyz') @HttpCode(200)
  async readyz() {
    const [db, redis] = await Promise.all([
      this.pool.query('SELECT 1').then(() => 'ok', () => 'down'),
      this.pingRedis(),
    ]);
    const body = { status: db === 'ok' && redis === 'ok' ? 'ok' : 'unavailable', postgres: db, redis };
    if (body.status !== 'ok') throw new ServiceUnavailableException(body);
    return body;
  }

  private async pingRedis(): Promise<string> {
    try {
      if (this.redis.status === 'wait' || this.redis.status === 'end') await this.redis.connect();
      return (await this.redis.ping()) === 'PONG' ? 'ok' : 'down';
    } catch {
      return 'down';
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
  }
}
