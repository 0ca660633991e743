import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { PG_POOL } from '../db/database.module.js';
import { inTransaction } from '../db/database.js';
import { EventStore } from '../event-store/event-store.js';
import { Projector } from '../projections/projector.js';
import { JobDispatchProjection } from './job-dispatch.projection.js';
import { JobQueues } from './job-queues.js';
import { runJobId, runQueue } from './queues.js';
import { JobRunsRepository } from './runs/job-runs.repository.js';

const OUTBOX_BATCH = 100;

/**
 * The one way jobs reach BullMQ. Each pass: the stream (new posts and edits -> unfurl jobs, a
 * checkpointed consumer: one leader across nodes, as projections), then, on the leader, the
 * job_runs outbox (runs recorded by admin requests or the retention schedule, queued with the
 * run's uuid as job id, then marked dispatched in the same transaction). While Redis is down a
 * pass fails, nothing moves, and the next one retries; the job ids make any repeat a no-op.
 */
@Injectable()
export class JobDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('JobDispatcher');
  readonly projector: Projector;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private queued = false;
  private stopped = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(CONFIG) private readonly config: Config,
    store: EventStore,
    private readonly queues: JobQueues,
    private readonly runs: JobRunsRepository,
  ) {
    this.projector = new Projector(new JobDispatchProjection(queues), store, {
      databaseUrl: config.DATABASE_URL,
      pool,
      batchSize: 500,
      intervalMs: config.JOBS_DISPATCH_INTERVAL_MS,
      onError: (err) => this.deferred(err),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.JOBS_DISPATCHER_ENABLED) return;
    // NOTIFY from the event store wakes the stream part at once (the projector listens while it leads).
    this.timer = setInterval(() => this.wake(), this.config.JOBS_DISPATCH_INTERVAL_MS);
    this.timer.unref();
    this.wake();
  }

  /** Runs a pass unless one is already waiting to start. */
  wake(): void {
    if (this.queued || this.stopped) return;
    this.queued = true;
    this.chain = this.chain.then(() => {
      this.queued = false;
      return this.pass().catch((err) => this.deferred(err));
    });
  }

  /** One pass: stream events, then (leader only) the retention schedule and the outbox. */
  async pass(): Promise<void> {
    await this.projector.runOnce();
    if (this.projector.isLeader) await this.dispatchRuns();
  }

  /** Queues every recorded run not queued yet; returns how many. */
  async dispatchRuns(): Promise<number> {
    return inTransaction(this.pool, async (tx) => {
      await this.runs.scheduleSweep(tx, this.config.RETENTION_SWEEP_EVERY_MS);
      const pending = await this.runs.undispatched(tx, OUTBOX_BATCH);
      for (const run of pending) await this.queues.get(runQueue(run.kind)).add('run', { runId: run.id }, { jobId: runJobId(run.id) });
      if (pending.length)
        await this.runs.markDispatched(
          tx,
          pending.map((r) => r.id),
        );
      return pending.length;
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.chain;
    await this.projector.stop();
  }

  // While Redis is down every pass fails the same way; the next one retries.
  private deferred(err: unknown): void {
    this.log.debug(`dispatch deferred: ${err instanceof Error ? err.message : String(err)}`);
  }
}
