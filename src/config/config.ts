import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// The one place that reads process.env. Everything else receives a validated Config.
const postgresUrl = z.string().refine((v) => URL.canParse(v) && /^postgres(ql)?:$/.test(new URL(v).protocol), 'must be a postgres:// URL');
const isRedisUrl = (v: string) => URL.canParse(v) && /^rediss?:$/.test(new URL(v).protocol);
/** One redis:// URL, or several comma-separated (the seed nodes of a Redis Cluster). */
const redisUrl = z
  .string()
  .refine((v) => v.split(',').every((u) => isRedisUrl(u.trim())), 'must be a redis:// URL (or several, comma-separated)');
/** Cluster seed nodes: comma-separated host:port (or redis:// URLs). */
const redisNodes = z
  .string()
  .refine(
    (v) => v.split(',').every((n) => isRedisUrl(n.trim()) || /^[^\s:/,]+:\d{1,5}$/.test(n.trim())),
    'must be comma-separated host:port (or redis:// URLs)',
  );
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: postgresUrl.default('postgres://postgres@127.0.0.1:5432/atomcast'),
  /**
   * `auto`: Citus when the database has the citus extension (docs/scaling.md), else one server;
   * `citus`: migrate refuses a database without it; `single`: never distribute.
   */
  DATABASE_DISTRIBUTION: z.enum(['auto', 'single', 'citus']).default('auto'),
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  /**
   * Redis Cluster seed nodes (host:port, comma-separated). Set, or REDIS_URL naming several nodes,
   * every Redis user (BullMQ queues, rate limits, auth-failure counters, /readyz) runs on the cluster;
   * credentials and TLS come from REDIS_URL.
   */
  REDIS_CLUSTER_NODES: redisNodes.optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PG_POOL_SIZE: int(1, 500).default(20),
  /** Requests a token may make per minute on /api before it gets `ratelimited`. */
  RATE_LIMIT_PER_MINUTE: int(1, 10_000_000).default(1200),
  /** Failed authentications per source address a minute (/api and /admin); past it: 429. */
  AUTH_FAILURES_PER_MINUTE: int(1, 10_000_000).default(30),
  /** One `info` line per HTTP request (method, route template, status, duration, token id). */
  ACCESS_LOG: bool.default(true),
  /** Open sockets per user and per token on one node; one more is refused with connect_error `too_many_sockets`. */
  SOCKETS_PER_USER: int(1, 100_000).default(50),
  SOCKETS_PER_TOKEN: int(1, 100_000).default(20),
  /** Largest HTTP body accepted, in bytes (413 above it). */
  BODY_LIMIT_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  /** How long appended (channel, seq) hints are coalesced before one NOTIFY carries them all. */
  NOTIFY_INTERVAL_MS: int(0, 1000).default(3),
  /** Largest Socket.IO message a client may send, in bytes (the connection is closed above it). */
  SOCKET_MAX_PAYLOAD_BYTES: int(1024, 64 * 1024 * 1024).default(256 * 1024),
  /** Connections the relay and socket catch-ups read the streams through, apart from PG_POOL_SIZE, so delivery never queues behind writes. */
  RELAY_POOL_SIZE: int(1, 100).default(4),
  /** The relay's safety poll of channel heads, which repairs any lost NOTIFY. */
  RELAY_POLL_MS: int(10, 60_000).default(1000),
  /** A user goes away this long after their last socket closes (a quick reconnect changes nothing). */
  PRESENCE_AWAY_DELAY_MS: int(0, 600_000).default(5000),
  /** A connected user goes away after this long without a post, typing, view or mark on any of their sockets. */
  PRESENCE_IDLE_MS: int(100, 24 * 3600 * 1000).default(600_000),
  /** How often each node repeats who is active on it; a node silent for three beats no longer counts. */
  PRESENCE_HEARTBEAT_MS: int(50, 600_000).default(15_000),
  /** At most one typing signal per user and channel in this window. */
  TYPING_THROTTLE_MS: int(0, 60_000).default(3000),
  /** A socket with more than this many bytes unsent gets no typing or presence signals. */
  SOCKET_EPHEMERAL_DROP_BYTES: int(0, 64 * 1024 * 1024).default(64 * 1024),
  /** A socket with more than this many bytes unsent (or 2,000 packets) is told to re-sync instead of buffering more. */
  SOCKET_RESYNC_BYTES: int(1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Run the read-model projector (unread counts) in this process; one node at a time leads it. */
  PROJECTOR_ENABLED: bool.default(true),
  /** How often the projector polls the global cursor besides waking on NOTIFY. */
  PROJECTOR_INTERVAL_MS: int(10, 60_000).default(200),
  /**
   * Least time between the starts of two passes of a consumer woken by NOTIFY (projector, job and
   * notify dispatch): the events of a burst share one pass. A consumer follows a post by at most this
   * plus its pass; higher spends less CPU per event at moderate rates, 0 runs a pass per wake-up.
   */
  CONSUMER_PASS_GAP_MS: int(0, 1000).default(10),
  /** Events applied per projector transaction. */
  PROJECTOR_BATCH_SIZE: int(1, 100_000).default(1000),
  /**
   * What this process does: `api` serves HTTP and sockets, `worker` runs the BullMQ workers,
   * `consumers` the projector and job dispatcher (a `worker` runs them too), so `ROLES=api` nodes pay
   * nothing for them.
   */
  ROLES: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['api', 'worker', 'consumers'])).min(1, 'must name api, worker and/or consumers'))
    .default(['api', 'worker']),
  /**
   * HTTP worker processes `npm start` runs (node:cluster, sharing PORT), each a stateless node with
   * its own pools, LISTEN and relay. Default: the machine's cores. 1 runs the app in the one process.
   */
  WEB_CONCURRENCY: int(1, 256).default(availableParallelism()),
  /**
   * Set by `npm start`'s primary on each worker process it forks (0, 1, ...; a replacement keeps the
   * slot of the worker it replaces), never by hand. Only slot 0 runs the consumers, so N workers do
   * not each wake for every NOTIFY and compete for their locks; unset outside a cluster.
   */
  CLUSTER_WORKER_SLOT: int(0, 255).optional(),
  /**
   * Redis key prefix of every queue: deployments (or test databases) sharing one Redis stay apart.
   * May hold one Redis Cluster hash tag (`{atomcast}`: every queue in one slot); without one, each
   * queue on a cluster gets its own tag (`atomcast:{atomcast-unfurl}`).
   */
  JOBS_PREFIX: z
    .string()
    .regex(
      /^(?=.{1,64}$)[A-Za-z0-9_-]*(\{[A-Za-z0-9_:-]+\})?[A-Za-z0-9_-]*$/,
      'must be 1-64 of A-Z a-z 0-9 _ - with at most one {hash tag}',
    )
    .default('atomcast'),
  /** Run the job dispatcher (stream -> BullMQ) in this process; one node at a time leads it. */
  JOBS_DISPATCHER_ENABLED: bool.default(true),
  /** How often the job dispatcher polls the stream (it also wakes on NOTIFY). */
  JOBS_DISPATCH_INTERVAL_MS: int(10, 60_000).default(250),
  /** Retention sweeps run this often (BullMQ job scheduler). */
  RETENTION_SWEEP_EVERY_MS: int(1000, 7 * 24 * 3600 * 1000).default(3600 * 1000),
  /** Audit trail rows older than this many days are deleted by the retention sweep. */
  AUDIT_KEEP_DAYS: int(1, 36_500).default(365),
  /** Unfurler: allow fetching loopback / private addresses (off in production; tests turn loopback on). */
  UNFURL_ALLOW_LOOPBACK: bool.default(false),
  UNFURL_ALLOW_PRIVATE: bool.default(false),
  /** Apps: deliver Events API / interactivity requests to loopback / private addresses (off in production; the unfurler's guard). */
  APPS_ALLOW_LOOPBACK: bool.default(false),
  APPS_ALLOW_PRIVATE: bool.default(false),
  /** Apps: run Events API delivery in this process (one node at a time leads each app). */
  APPS_DELIVERY_ENABLED: bool.default(true),
  /** Apps: an HTTP delivery that has not answered after this long counts as failed (`http_timeout`). */
  APPS_HTTP_TIMEOUT_MS: int(100, 60_000).default(3000),
  /** Apps: the first retry waits this long, each next one twice as long (3 retries, then the app is paused). */
  APPS_RETRY_BACKOFF_MS: int(0, 3_600_000).default(1000),
  /** Apps: a Socket Mode envelope not acknowledged within this is sent again (on any of the app's connections). */
  APPS_SOCKET_ACK_TIMEOUT_MS: int(100, 600_000).default(3000),
  /** Apps: how often delivery streams look for new events besides waking on commits. */
  APPS_POLL_MS: int(10, 60_000).default(250),
  /** EKM local provider: the 32-byte master key, base64 (or a file holding it). Never logged. */
  EKM_LOCAL_MASTER_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .optional(),
  EKM_LOCAL_MASTER_KEY_FILE: z.string().min(1).optional(),
  /**
   * EKM: how long the log's consumers (projector, job and notify dispatch, app event streams) wait
   * for a failing key service before they read the bodies of its keys as denied and move on. They
   * stop at the first such body meanwhile, so nothing is indexed, counted or delivered without its
   * text; 0 never waits.
   */
  EKM_HOLD_SECONDS: int(0, 86_400).default(300),
  /** EKM AWS KMS provider: region, and an endpoint override (tests point it at a fake). */
  AWS_KMS_REGION: z.string().min(1).optional(),
  AWS_KMS_ENDPOINT: z.string().url().optional(),
  /** Where people reach this server (sign-in links, the socket's Origin check, Secure cookies on https). Default http://localhost:<PORT>. */
  PUBLIC_URL: z
    .string()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http(s):// URL')
    .optional(),
  /** How long a sign-in link works (it works once). */
  SIGNIN_LINK_TTL_MS: int(1000, 30 * 24 * 3600 * 1000).default(24 * 3600 * 1000),
  /** How long a web session lasts after sign-in. */
  SESSION_TTL_MS: int(1000, 365 * 24 * 3600 * 1000).default(30 * 24 * 3600 * 1000),
  /** The built web client served at `/` (API only when the folder is missing). */
  WEB_DIST_DIR: z
    .string()
    .min(1)
    .default(fileURLToPath(new URL('../../web/dist', import.meta.url))),
  /** Web Push (notifications): the VAPID key pair (base64url, as `npx web-push generate-vapid-keys` prints). Unset: no notifications. */
  VAPID_PUBLIC_KEY: z
    .string()
    .refine(
      (v) => /^[A-Za-z0-9_-]+$/.test(v) && Buffer.from(v, 'base64url').length === 65,
      'must be a P-256 public key, 65 bytes base64url',
    )
    .optional(),
  VAPID_PRIVATE_KEY: z
    .string()
    .refine(
      (v) => /^[A-Za-z0-9_-]+$/.test(v) && Buffer.from(v, 'base64url').length === 32,
      'must be a P-256 private key, 32 bytes base64url',
    )
    .optional(),
  /** Who push services may contact about this sender: a mailto: or https: URL (default mailto:postmaster@<PUBLIC_URL host>). */
  VAPID_SUBJECT: z
    .string()
    .refine((v) => /^(mailto:.+|https:\/\/.+)$/.test(v), 'must be a mailto: or https: URL')
    .optional(),
  /** Push endpoints: allow plain http / loopback / private addresses (off in production; tests turn them on). */
  PUSH_ALLOW_HTTP: bool.default(false),
  PUSH_ALLOW_LOOPBACK: bool.default(false),
  PUSH_ALLOW_PRIVATE: bool.default(false),
  /** How long a push service keeps an undelivered notification (Web Push TTL). */
  PUSH_TTL_SECONDS: int(0, 28 * 24 * 3600).default(3600),
  /** A message older than this when the notification consumer reaches it is not notified (after an outage, no flood of stale alerts). */
  PUSH_MAX_AGE_SECONDS: int(1, 7 * 24 * 3600).default(600),
  /** Time allowed for one push request (connect, send, answer). */
  PUSH_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** Files: the directory the local storage driver keeps bytes in (created at start); unused when FILES_S3_BUCKET is set. */
  FILES_DIR: z
    .string()
    .min(1)
    .default(fileURLToPath(new URL('../../data/files', import.meta.url))),
  /** Largest file an upload may carry, in bytes (above it: HTTP 413, `file_too_large`). */
  FILES_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .default(1024 * 1024 * 1024),
  /** Files: store bytes in this S3 bucket (any S3-compatible store) instead of FILES_DIR. */
  FILES_S3_BUCKET: z.string().min(1).optional(),
  /** S3 endpoint override (MinIO, Ceph, a test server); path-style addressing is used when set. */
  FILES_S3_ENDPOINT: z.string().url().optional(),
  FILES_S3_REGION: z.string().min(1).default('us-east-1'),
  /** Static S3 credentials; unset: the usual AWS chain (env, profile, instance role). Never logged. */
  FILES_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  FILES_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Uploads never completed (or completed never) are swept, bytes and row, after this long. */
  FILES_ORPHAN_TTL_MS: int(1000, 30 * 24 * 3600 * 1000).default(24 * 3600 * 1000),
  /** How often the files sweep (orphans, deleted files' bytes) is recorded by the job dispatcher. */
  FILES_SWEEP_EVERY_MS: int(1000, 7 * 24 * 3600 * 1000).default(3600 * 1000),
  /**
   * Key ids / ARNs workspaces may point EKM at, comma-separated; a trailing `*` makes a prefix
   * (`arn:aws:kms:eu-west-1:111122223333:key/*`). Empty: no key is allowed (the server's credentials
   * may reach keys of other tenants).
   */
  AWS_KMS_KEY_ALLOW: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
});

// Settings that are each valid but not together.
const checked = schema.superRefine((c, ctx) => {
  const cluster = c.REDIS_CLUSTER_NODES !== undefined || c.REDIS_URL.includes(',');
  const first = c.REDIS_URL.split(',')[0]!.trim();
  if (!URL.canParse(first)) return; // reported by REDIS_URL's own check
  const db = new URL(first).pathname.replace(/^\//, '');
  if (cluster && db !== '' && db !== '0')
    ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'names a database, but a Redis Cluster has database 0 only' });
});

export type Config = Omit<z.infer<typeof schema>, 'PUBLIC_URL'> & { PUBLIC_URL: string };

export class ConfigError extends Error {}

/** Parses the environment; throws a ConfigError whose message is one line naming every bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = checked.safeParse(cleaned);
  if (!result.success) {
    const reasons = result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    throw new ConfigError(`invalid configuration: ${reasons.join('; ')}`);
  }
  if (!result.data.VAPID_PUBLIC_KEY !== !result.data.VAPID_PRIVATE_KEY)
    throw new ConfigError('invalid configuration: VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together');
  return { ...result.data, PUBLIC_URL: (result.data.PUBLIC_URL ?? `http://localhost:${result.data.PORT}`).replace(/\/+$/, '') };
}

/**
 * Whether this process runs the stream consumers (projector, job dispatcher, notify decisions):
 * `consumers` or `worker` in ROLES, and in a cluster (WEB_CONCURRENCY > 1) worker slot 0 only.
 */
export function runsConsumers(config: Pick<Config, 'ROLES' | 'CLUSTER_WORKER_SLOT'>): boolean {
  return (config.ROLES.includes('consumers') || config.ROLES.includes('worker')) && !config.CLUSTER_WORKER_SLOT;
}

export const CONFIG = Symbol('CONFIG');
