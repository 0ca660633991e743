import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { createPool, DatabaseOutage } from './database.js';

export const PG_POOL = Symbol('PG_POOL');

@Global()
@Module({
  providers: [
    { provide: PG_POOL, inject: [CONFIG], useFactory: (c: Config) => createPool(c.DATABASE_URL, c.PG_POOL_SIZE) },
    { provide: DatabaseOutage, inject: [PG_POOL], useFactory: (pool: pg.Pool) => new DatabaseOutage(pool) },
  ],
  exports: [PG_POOL, DatabaseOutage],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
