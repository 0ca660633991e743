import { z } from 'zod';

// The one place that reads process.env. Everything else receives a validated Config.
const postgresUrl = z
  .string()
  .refine((v) => URL.canParse(v) && /^postgres(ql)?:$/.test(new URL(v).protocol), 'must be a postgres:// URL');
const redisUrl = z
  .string()
  .refine((v) => URL.canParse(v) && /^rediss?:$/.test(new URL(v).protocol), 'must be a redis:// URL');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: postgresUrl.default('postgres://postgres@127.0.0.1:5432/atomcast'),
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PG_POOL_SIZE: int(1, 500).default(20),
  /** Requests a token may make per minute on /api before it gets `ratelimited`. */
  RATE_LIMIT_PER_MINUTE: int(1, 10_000_000).default(1200),
  /** Largest HTTP body accepted, in bytes (413 above it). */
  BODY_LIMIT_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  /** How long appended (channel, seq) hints are coalesced before one NOTIFY carries them all. */
  NOTIFY_INTERVAL_MS: int(0, 1000).default(3),
  /** Run the read-model projector (unread counts) in this process; one node at a time leads it. */
  PROJECTOR_ENABLED: bool.default(true),
  /** How often the projector polls the global cursor besides waking on NOTIFY. */
  PROJECTOR_INTERVAL_MS: int(10, 60_000).default(200),
  /** Events applied per projector transaction. */
  PROJECTOR_BATCH_SIZE: int(1, 100_000).default(1000),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {}

/** Parses the environment; throws a ConfigError whose message is one line naming every bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const reasons = result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    throw new ConfigError(`invalid configuration: ${reasons.join('; ')}`);
  }
  return result.data;
}

export const CONFIG = Symbol('CONFIG');
