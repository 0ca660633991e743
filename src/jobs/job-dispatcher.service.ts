import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { PG_POOL } from '../db/database.module.js';
import { EventStore } from '../event-store/event-store.js';
import { Projector } from '../projections/projector.js';
import { JobDispatchProjection } from './job-dispatch.projection.js';
import { JobQueues } from './job-queues.js';

/** Runs the stream -> BullMQ dispatcher in this process (one leader across nodes, as projections). */
@Injectable()
export class JobDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('JobDispatcher');
  readonly projector: Projector;

  constructor(
    @Inject(PG_POOL) pool: pg.Pool,
    @Inject(CONFIG) private readonly config: Config,
    store: EventStore,
    queues: JobQueues,
  ) {
    this.projector = new Projector(new JobDispatchProjection(queues), store, {
      databaseUrl: config.DATABASE_URL,
      pool,
      batchSize: 500,
      intervalMs: config.JOBS_DISPATCH_INTERVAL_MS,
      // While Redis is down every pass fails the same way; the next one retries.
      onError: (err) => this.log.debug(`dispatch deferred: ${err instanceof Error ? err.message : String(err)}`),
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.JOBS_DISPATCHER_ENABLED) this.projector.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.projector.stop();
  }
}
