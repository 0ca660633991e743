import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { CONFIG, type Config } from '../config/config.js';
import { EkmService } from '../crypto/ekm.service.js';
import { type EkmJob, QUEUES, type RetentionJob, type UnfurlJob } from './queues.js';
import { RetentionService } from './retention/retention.service.js';
import { UnfurlService } from './unfurl/unfurl.service.js';

const REQUEUE_EVERY_MS = 30_000;

/**
 * The BullMQ workers of this process (ROLES includes `worker`). Processors only unpack the payload
 * and call a service, so everything they do is testable without Redis.
 */
@Injectable()
export class JobWorkers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('JobWorkers');
  private readonly workers: Worker[] = [];
  private connection: Redis | undefined;
  private requeueTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly retention: RetentionService,
    private readonly unfurl: UnfurlService,
    private readonly ekm: EkmService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.ROLES.includes('worker')) return;
    // Workers block on Redis and must retry forever (BullMQ requires maxRetriesPerRequest: null).
    this.connection = new Redis(this.config.REDIS_URL, { maxRetriesPerRequest: null });
    this.connection.on('error', () => {});
    this.start<UnfurlJob>(QUEUES.unfurl, 4, (job) =>
      this.unfurl.unfurlMessage(job.data.channel, job.data.seq, { lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) }),
    );
    this.start<RetentionJob>(QUEUES.retention, 1, (job) => this.retention.runJob(job.data.runId));
    this.start<EkmJob>(QUEUES.ekm, 1, (job) => this.ekm.run(job.data.runId));

    const scheduler = new Queue(QUEUES.retention, { connection: this.connection, prefix: this.config.JOBS_PREFIX });
    await scheduler
      .upsertJobScheduler('retention-sweep', { every: this.config.RETENTION_SWEEP_EVERY_MS }, { name: 'sweep', data: {} })
      .catch((err: Error) => this.log.warn(`retention schedule not set yet: ${err.message}`));
    await scheduler.close();
    // EKM state changes commit before their job is queued; one queued while Redis was down is queued again.
    this.requeueTimer = setInterval(() => void this.ekm.requeuePending().catch(() => {}), REQUEUE_EVERY_MS);
    this.requeueTimer.unref();
  }

  private start<T>(queue: string, concurrency: number, process: (job: Job<T>) => Promise<unknown>): void {
    const worker = new Worker<T>(queue, async (job) => void (await process(job)), {
      connection: this.connection!,
      prefix: this.config.JOBS_PREFIX,
      concurrency,
    });
    worker.on('error', () => {}); // connection trouble: BullMQ reconnects
    worker.on('failed', (job, err) => this.log.warn(`${queue} job ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}`));
    this.workers.push(worker);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.requeueTimer);
    await Promise.all(this.workers.map((w) => w.close().catch(() => {})));
    this.connection?.disconnect();
  }
}
