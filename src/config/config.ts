import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// The one place that reads process.env. Everything else receives a validated Config.
const postgresUrl = z.string().refine((v) => URL.canParse(v) && /^postgres(ql)?:$/.test(new URL(v).protocol), 'must be a postgres:// URL');
const redisUrl = z.string().refine((v) => URL.canParse(v) && /^rediss?:$/.test(new URL(v).protocol), 'must be a redis:// URL');
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
  /** Events applied per projector transaction. */
  PROJECTOR_BATCH_SIZE: int(1, 100_000).default(1000),
  /** What this process does: `api` serves HTTP and sockets, `worker` runs the BullMQ workers. */
  ROLES: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['api', 'worker'])).min(1, 'must name api and/or worker'))
    .default(['api', 'worker']),
  /** Redis key prefix of every queue: deployments (or test databases) sharing one Redis stay apart. */
  JOBS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ -')
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
  /** EKM local provider: the 32-byte master key, base64 (or a file holding it). Never logged. */
  EKM_LOCAL_MASTER_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .optional(),
  EKM_LOCAL_MASTER_KEY_FILE: z.string().min(1).optional(),
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

export type Config = Omit<z.infer<typeof schema>, 'PUBLIC_URL'> & { PUBLIC_URL: string };

export class ConfigError extends Error {}

/** Parses the environment; throws a ConfigError whose message is one line naming every bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const reasons = result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    throw new ConfigError(`invalid configuration: ${reasons.join('; ')}`);
  }
  return { ...result.data, PUBLIC_URL: (result.data.PUBLIC_URL ?? `http://localhost:${result.data.PORT}`).replace(/\/+$/, '') };
}

export const CONFIG = Symbol('CONFIG');
