import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { CONFIG, type Config, runsConsumers } from '../../config/config.js';
import { PG_POOL } from '../../db/database.module.js';
import { EventStore } from '../../event-store/event-store.js';
import { Projector } from '../../projections/projector.js';
import { JobQueues } from '../job-queues.js';
import { JobWorkers } from '../job-workers.service.js';
import { QUEUES, type NotifyJob } from '../queues.js';
import { NotifyDelivery } from './notify-delivery.service.js';
import { NotifyProjection } from './notify.projection.js';
import { NotifyRepository } from './notify.repository.js';

/**
 * Runs the notification consumer (its own checkpoint `notify`, so slow decisions never hold up
 * unfurls) where the job dispatcher runs (runsConsumers), and the notify worker where workers run. Both only when
 * VAPID keys are configured: without them there is nothing to send.
 */
@Injectable()
export class NotifyDispatcher implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('NotifyDispatcher');
  readonly projection: NotifyProjection;
  readonly projector: Projector;

  constructor(
    @Inject(PG_POOL) pool: pg.Pool,
    @Inject(CONFIG) private readonly config: Config,
    store: EventStore,
    queues: JobQueues,
    repo: NotifyRepository,
    private readonly workers: JobWorkers,
    private readonly delivery: NotifyDelivery,
  ) {
    this.projection = new NotifyProjection(repo, queues, config.PUSH_MAX_AGE_SECONDS);
    this.projector = new Projector(this.projection, store, {
      databaseUrl: config.DATABASE_URL,
      pool,
      batchSize: 200,
      intervalMs: config.JOBS_DISPATCH_INTERVAL_MS,
      gapMs: config.CONSUMER_PASS_GAP_MS,
      // While Redis is down every pass fails the same way; the next one retries.
      onError: (err) => this.log.debug(`notify dispatch deferred: ${err instanceof Error ? err.message : String(err)}`),
    });
  }

  private get enabled(): boolean {
    return !!this.config.VAPID_PUBLIC_KEY;
  }

  onModuleInit(): void {
    if (this.enabled) this.workers.serve<NotifyJob>(QUEUES.notify, 8, (job) => this.delivery.deliver(job.data));
  }

  onApplicationBootstrap(): void {
    if (this.enabled && this.config.JOBS_DISPATCHER_ENABLED && runsConsumers(this.config)) this.projector.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.projector.stop();
  }
}
