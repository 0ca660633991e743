import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { Logger } from 'nestjs-pino';
import { AppModule } from '../../src/app.module.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { JobQueues } from '../../src/jobs/job-queues.js';
import { QUEUES } from '../../src/jobs/queues.js';

export interface JobsApp {
  context: INestApplicationContext;
  config: Config;
  /** A connection of its own, outside the timed work, that finds the backends whose CPU is measured. */
  monitor: pg.Client;
  close(): Promise<void>;
}

/**
 * The real Nest module graph (AppModule.forRoot) without HTTP, configured so that nothing in the
 * background competes with the service calls being timed: the API role only (no BullMQ workers,
 * so no worker picks up the EKM run we call ourselves), no projector, no job dispatcher. The queue
 * prefix is the run's own, and its queues are removed at the end.
 */
export async function startJobsApp(databaseUrl: string, extraEnv: Record<string, string> = {}): Promise<JobsApp> {
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL,
    LOG_LEVEL: 'warn',
    ROLES: 'api',
    PROJECTOR_ENABLED: 'false',
    JOBS_DISPATCHER_ENABLED: 'false',
    JOBS_PREFIX: `bench_${randomBytes(4).toString('hex')}`,
    EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'),
    UNFURL_ALLOW_LOOPBACK: 'true',
    ...extraEnv,
  });
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(config), { bufferLogs: true });
  // pino writes to stdout; at LOG_LEVEL=warn it stays quiet and the table stays readable.
  context.useLogger(context.get(Logger));
  const monitor = new pg.Client({ connectionString: databaseUrl });
  await monitor.connect();
  return {
    context,
    config,
    monitor,
    async close() {
      await monitor.end();
      const queues = context.get(JobQueues);
      for (const name of Object.values(QUEUES))
        await queues
          .get(name)
          .obliterate({ force: true })
          .catch(() => {});
      await context.close();
    },
  };
}
