import type { JobsOptions } from 'bullmq';

// Every queue name and payload type, declared once.

export const QUEUES = {
  unfurl: 'atomcast-unfurl',
  retention: 'atomcast-retention',
  ekm: 'atomcast-ekm',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Fetch link previews for one posted message. */
export interface UnfurlJob {
  channel: string;
  seq: number;
}

/** Sweep expired messages: one recorded run, or (from the scheduler) a new run over every workspace. */
export interface RetentionJob {
  runId?: number;
}

/** Carry out one recorded EKM run (seal existing bodies, re-wrap keys, announce a revocation). */
export interface EkmJob {
  runId: string;
}

/**
 * Job ids are derived from the stream position, so dispatching the same event twice is a no-op.
 * (BullMQ reserves ':' in ids.)
 */
export const unfurlJobId = (channel: string, seq: number) => `unfurl-${channel}-${seq}`;
export const retentionRunJobId = (runId: number) => `retention-run-${runId}`;
export const ekmRunJobId = (runId: string) => `ekm-run-${runId}`;

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  // Kept for a day so a re-dispatch of the same id stays a no-op and status can be inspected.
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};
