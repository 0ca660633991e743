import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { CONFIG, type Config } from '../config/config.js';
import { QUEUES, type RunJob, type UnfurlJob } from './queues.js';
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
  private connection: Redis | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly runs: JobRunsService,
    private readonly unfurl: UnfurlService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.ROLES.includes('worker')) return;
    // Workers block on Redis and must retry forever (BullMQ requires maxRetriesPerRequest: null).
    this.connection = new Redis(this.config.REDIS_URL, { maxRetriesPerRequest: null });
    this.connection.on('error', () => {});
    this.start<UnfurlJob>(QUEUES.unfurl, 4, (job) =>
      this.unfurl.unfurlMessage(job.data.channel, job.data.seq, { lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) }),
    );
    this.start<RunJob>(QUEUES.retention, 1, (job) => this.runs.execute(job.data.runId));
    this.start<RunJob>(QUEUES.ekm, 1, (job) => this.runs.execute(job.data.runId));
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
    await Promise.all(this.workers.map((w) => w.close().catch(() => {})));
    this.connection?.disconnect();
  }
}
