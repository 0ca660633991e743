import { Controller, Get, HttpCode, Inject, type OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import type pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { createRedis, type RedisClient } from '../db/redis.js';
import { PG_POOL } from '../db/database.module.js';
import { ProjectorService } from '../projections/projector.service.js';

@Controller()
export class HealthController implements OnModuleDestroy {
  private readonly redis: RedisClient;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(CONFIG) config: Config,
    private readonly projector: ProjectorService,
  ) {
    // Fail fast instead of queueing: readiness must answer now.
    this.redis = createRedis(config, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
    });
    this.redis.on('error', () => {});
  }

  /** Liveness: the process answers. */
  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: PostgreSQL and Redis both answer. Projection lag is reported, never a reason to be unready. */
  @Get('readyz')
  @HttpCode(200)
  async readyz() {
    const [db, redis, projections] = await Promise.all([
      this.pool.query('SELECT 1').then(
        () => 'ok',
        () => 'down',
      ),
      this.pingRedis(),
      this.projector.lag().catch(() => 'unknown' as const),
    ]);
    const body = { status: db === 'ok' && redis === 'ok' ? 'ok' : 'unavailable', postgres: db, redis, projections };
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
