import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type pg from 'pg';
import { CONFIG, type Config, runsConsumers } from '../config/config.js';
import { PG_POOL } from '../db/database.module.js';
import { inTransaction } from '../db/database.js';
import { EventStore } from '../event-store/event-store.js';
import { Projector } from '../projections/projector.js';
import { JobDispatchProjection } from './job-dispatch.projection.js';
import { JobQueues } from './job-queues.js';
import { QUEUES, runJobId, runQueue, scheduledMessageJobId, statusExpiryJobId } from './queues.js';
import { JobRunsRepository } from './runs/job-runs.repository.js';
import { TimedOutboxRepository } from './timed/timed-outbox.repository.js';

const OUTBOX_BATCH = 100;
/** A scheduled message still pending this long after its time is queued again (same id: a no-op if its job exists). */
const OVERDUE_GRACE_SECONDS = 30;

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
    private readonly timed: TimedOutboxRepository,
  ) {
    this.projector = new Projector(new JobDispatchProjection(queues), store, {
      databaseUrl: config.DATABASE_URL,
      pool,
      batchSize: 500,
      intervalMs: config.JOBS_DISPATCH_INTERVAL_MS,
      gapMs: config.CONSUMER_PASS_GAP_MS,
      onError: (err) => this.deferred(err),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.JOBS_DISPATCHER_ENABLED || !runsConsumers(this.config)) return;
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

  /**
   * One pass: stream events, then (leader only) the retention schedule and the outboxes, each of
   * whose transactions opens only when its repository finds something to do: most passes find nothing.
   * The stream's checkpoint is not read again: only this leader moves it, and no rebuild resets it.
   */
  async pass(): Promise<void> {
    await this.projector.runOnce({ reload: false });
    if (!this.projector.isLeader) return;
    const sweeps = { retention: this.config.RETENTION_SWEEP_EVERY_MS, 'files-sweep': this.config.FILES_SWEEP_EVERY_MS };
    if (await this.runs.hasWork(this.pool, sweeps)) await this.dispatchRuns();
    if (await this.timed.hasWork(this.pool, Math.floor(Date.now() / 1000), OVERDUE_GRACE_SECONDS)) await this.dispatchTimed();
  }

  /**
   * Status expirations and scheduled messages not queued yet become delayed jobs due at their time
   * (a time already past runs at once). A Redis that restarts without its data loses the delayed
   * jobs but not the rows: see ScheduledMessagesService for how a row still pending is re-queued.
   */
  async dispatchTimed(): Promise<number> {
    return inTransaction(this.pool, async (tx) => {
      const now = Date.now();
      const expiring = await this.timed.undispatchedExpirations(tx, OUTBOX_BATCH);
      if (expiring.length) {
        await this.queues.get(QUEUES.statusExpiry).addBulk(
          expiring.map((e) => ({
            name: 'expire',
            data: { user: e.user_id, expiration: e.expiration },
            opts: { jobId: statusExpiryJobId(e.user_id, e.expiration), delay: Math.max(0, e.expiration * 1000 - now) },
          })),
        );
        await this.timed.markExpirationsDispatched(tx, expiring);
      }
      const scheduled = await this.timed.undispatchedScheduled(tx, OUTBOX_BATCH);
      if (scheduled.length) {
        await this.queues.get(QUEUES.scheduled).addBulk(
          scheduled.map((m) => ({
            name: 'post',
            data: { id: m.id },
            opts: { jobId: scheduledMessageJobId(m.id), delay: Math.max(0, m.post_at * 1000 - now) },
          })),
        );
        await this.timed.markScheduledDispatched(
          tx,
          scheduled.map((m) => m.id),
        );
      }
      // Redis restarted without its data (or its delayed job was removed): the row is still pending.
      const overdue = await this.timed.overdueScheduled(tx, Math.floor(now / 1000), OVERDUE_GRACE_SECONDS, OUTBOX_BATCH);
      if (overdue.length) {
        await this.queues
          .get(QUEUES.scheduled)
          .addBulk(overdue.map((id) => ({ name: 'post', data: { id }, opts: { jobId: scheduledMessageJobId(id) } })));
      }
      return expiring.length + scheduled.length;
    });
  }

  /** Queues every recorded run not queued yet; returns how many. */
  async dispatchRuns(): Promise<number> {
    return inTransaction(this.pool, async (tx) => {
      await this.runs.scheduleSweep(tx, this.config.RETENTION_SWEEP_EVERY_MS);
      await this.runs.scheduleSweep(tx, this.config.FILES_SWEEP_EVERY_MS, 'files-sweep');
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
