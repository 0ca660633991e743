import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type Job, Worker } from 'bullmq';
import { CONFIG, type Config } from '../config/config.js';
import { createRedis, type RedisClient } from '../db/redis.js';
import { ProfilesService } from '../workspaces/profiles.service.js';
import { QUEUES, queuePrefix, type QueueName, type RunJob, type StatusExpiryJob, type UnfurlJob } from './queues.js';
import { JobRunsService } from './runs/job-runs.service.js';
import { UnfurlService } from './unfurl/unfurl.service.js';

/**
 * The BullMQ workers of this process (ROLES includes `worker`). Processors only unpack the payload
 * and call a service, so everything they do is testable without Redis. Jobs reach the queues only
 * through the job dispatcher (JobDispatcher), never from here.
 */
@Injectable()
export class JobWorkers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('JobWorkers');
  private readonly workers: Worker[] = [];
  private connection: RedisClient | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly runs: JobRunsService,
    private readonly unfurl: UnfurlService,
    private readonly profiles: ProfilesService,
  ) {}

  /** Processors that live above this layer (a scheduled message posts through the api's chat use case). */
  private readonly extra: Array<{ queue: QueueName; concurrency: number; process: (job: Job) => Promise<unknown> }> = [];

  /** Registers a processor for `queue`; call before the application starts (onModuleInit). */
  serve<T>(queue: QueueName, concurrency: number, process: (job: Job<T>) => Promise<unknown>): void {
    this.extra.push({ queue, concurrency, process: process as (job: Job) => Promise<unknown> });
  }

  onApplicationBootstrap(): void {
    if (!this.config.ROLES.includes('worker')) return;
    // Workers block on Redis and must retry forever (BullMQ requires maxRetriesPerRequest: null).
    this.connection = createRedis(this.config, { maxRetriesPerRequest: null });
    this.connection.on('error', () => {});
    this.start<UnfurlJob>(QUEUES.unfurl, 4, (job) =>
      this.unfurl.unfurlMessage(job.data.channel, job.data.seq, { lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) }),
    );
    this.start<RunJob>(QUEUES.retention, 1, (job) => this.runs.execute(job.data.runId));
    this.start<RunJob>(QUEUES.ekm, 1, (job) => this.runs.execute(job.data.runId));
    this.start<RunJob>(QUEUES.files, 2, (job) => this.runs.execute(job.data.runId));
    this.start<StatusExpiryJob>(QUEUES.statusExpiry, 4, (job) => this.profiles.expireStatus(job.data.user, job.data.expiration));
    for (const { queue, concurrency, process } of this.extra) this.start(queue, concurrency, process);
  }

  private start<T>(queue: QueueName, concurrency: number, process: (job: Job<T>) => Promise<unknown>): void {
    const worker = new Worker<T>(queue, async (job) => void (await process(job)), {
      connection: this.connection!,
      prefix: queuePrefix(this.config, queue),
      concurrency,
    });
    worker.on('error', () => {}); // connection trouble: BullMQ reconnects
    worker.on('failed', (job, err) => this.log.warn(`${queue} job ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}`));
    this.workers.push(worker);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close().catch(() => {})));
    this.connection?.disconnect();
  }
}
