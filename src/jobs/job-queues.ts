import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { CONFIG, type Config } from '../config/config.js';
import { createRedis, type RedisClient } from '../db/redis.js';
import { DEFAULT_JOB_OPTIONS, QUEUES, queuePrefix, type QueueName } from './queues.js';

/** Producers for every queue. They fail fast while Redis is down (no offline queue): callers retry. */
@Injectable()
export class JobQueues implements OnModuleDestroy {
  private readonly connection: RedisClient;
  private readonly queues = new Map<QueueName, Queue>();

  constructor(@Inject(CONFIG) private readonly config: Config) {
    this.connection = createRedis(config, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    this.connection.on('error', () => {}); // reconnects by itself; dispatch retries meanwhile
  }

  get(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.connection,
        prefix: queuePrefix(this.config, name),
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      });
      queue.on('error', () => {});
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Counts per state and the latest failures of every queue, for the admin API. */
  async status() {
    return Promise.all(
      Object.values(QUEUES).map(async (name) => {
        const queue = this.get(name);
        const [counts, failed] = await Promise.all([
          queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'),
          queue.getFailed(0, 9),
        ]);
        return {
          queue: name,
          counts,
          recent_failures: failed.map((j) => ({ id: j.id, attempts: j.attemptsMade, reason: j.failedReason, failed_at: j.finishedOn })),
        };
      }),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => {})));
    this.connection.disconnect();
  }
}
