import type { JobsOptions } from 'bullmq';
import type { Config } from '../config/config.js';
import { isRedisCluster } from '../db/redis.js';
import type { JobKind } from './runs/job-runs.repository.js';

// Every queue name and payload type, declared once.

export const QUEUES = {
  unfurl: 'atomcast-unfurl',
  retention: 'atomcast-retention',
  ekm: 'atomcast-ekm',
  statusExpiry: 'atomcast-status-expiry',
  scheduled: 'atomcast-scheduled',
  notify: 'atomcast-notify',
  files: 'atomcast-files',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Fetch link previews for one message (`seq`: the message's own seq), after its post or an edit. */
export interface UnfurlJob {
  channel: string;
  seq: number;
}

/** Carry out one recorded run of job_runs (a retention sweep or an EKM run). */
export interface RunJob {
  runId: string;
}

/** Clear a user's status when its expiration comes (a delayed job; a no-op if the status changed since). */
export interface StatusExpiryJob {
  user: string;
  expiration: number;
}

/** Post one scheduled message (a delayed job, due at its post_at). */
export interface ScheduledMessageJob {
  id: string;
}

/** Send one message's notification to one device (`subscription`: push_subscriptions.id). */
export interface NotifyJob {
  channel: string;
  seq: number;
  subscription: string;
}

/**
 * The key prefix of one queue. A Lua script of BullMQ touches several keys of its queue, which a
 * Redis Cluster runs only when they hash to one slot: so on a cluster the prefix carries a hash tag,
 * the queue's own (`atomcast:{atomcast-unfurl}`, queues spread over the masters) unless JOBS_PREFIX
 * holds one already (`{atomcast}`: every queue in that one slot). A standalone Redis keeps the plain
 * prefix, so existing keys stay where they are.
 */
export function queuePrefix(config: Pick<Config, 'JOBS_PREFIX' | 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>, queue: QueueName): string {
  if (!isRedisCluster(config) || config.JOBS_PREFIX.includes('{')) return config.JOBS_PREFIX;
  return `${config.JOBS_PREFIX}:{${queue}}`;
}

/** The queue each kind of run is carried out on. */
export const runQueue = (kind: JobKind): QueueName =>
  kind === 'retention' ? QUEUES.retention : kind.startsWith('files-') ? QUEUES.files : QUEUES.ekm;

/**
 * Job ids are derived from what caused the job, so dispatching it twice is a no-op: the stream
 * position of the post or edit event, or the run's uuid (unique across databases sharing a Redis).
 * (BullMQ reserves ':' in ids.)
 */
export const unfurlJobId = (channel: string, eventSeq: number) => `unfurl-${channel}-${eventSeq}`;
export const runJobId = (runId: string) => `run-${runId}`;
export const statusExpiryJobId = (user: string, expiration: number) => `status-${user}-${expiration}`;
export const notifyJobId = (channel: string, seq: number, subscription: string) => `notify-${channel}-${seq}-${subscription}`;
export const scheduledMessageJobId = (id: string) => `scheduled-${id}`;

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  // Kept for a day so a re-dispatch of the same id stays a no-op and status can be inspected.
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};
