import { readFileSync } from 'node:fs';

// Where the app's CPU goes, by part of the request path, from a V8 CPU profile (--cpu-prof) of the
// app process: each sample is given to the first part, in PARTS order, that any frame of its stack
// belongs to, so a pg call made by the projector counts as the projector's. Samples in an idle
// event loop are left out; the shares are of the busy samples.

export const PARTS = [
  'projector',
  'job dispatcher',
  'relay and broadcast',
  'logging',
  'rate limit and auth-failure checks (Redis)',
  'append call (pg, event store)',
  'HTTP and Nest pipeline (guards, validation, serialization)',
  'garbage collection',
  'other (V8, native)',
] as const;
export type Part = (typeof PARTS)[number];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const SOCKET_IO = /node_modules\/(socket\.io|engine\.io|ws|@socket\.io)\//;
const FASTIFY = /node_modules\/fastify\//;

/** What one frame belongs to, or undefined for frames that do not say (node internals, our glue). */
function frameParts(url: string, name: string): Part | 'idle' | undefined {
  if (!url) {
    if (name === '(idle)') return 'idle';
    if (name === '(garbage collector)') return 'garbage collection';
    return undefined;
  }
  if (/\/src\/projections\//.test(url)) return 'projector';
  if (/\/src\/jobs\//.test(url) || /node_modules\/bullmq\//.test(url)) return 'job dispatcher';
  if (/\/src\/realtime\//.test(url) || SOCKET_IO.test(url)) return 'relay and broadcast';
  if (/node_modules\/(pino|pino-http|nestjs-pino|sonic-boom|thread-stream|pino-std-serializers)\//.test(url)) return 'logging';
  if (/node_modules\/(ioredis|rate-limiter-flexible|@ioredis|redis-parser)\//.test(url) || /\/src\/rate-limit\//.test(url))
    return 'rate limit and auth-failure checks (Redis)';
  if (/node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-array)\//.test(url) || /\/src\/(event-store|db)\//.test(url))
    return 'append call (pg, event store)';
  if (
    /node_modules\/(fastify|@fastify|@nestjs|class-validator|class-transformer|find-my-way|light-my-request|avvio|fast-json-stringify|secure-json-parse)/.test(
      url,
    )
  )
    return 'HTTP and Nest pipeline (guards, validation, serialization)';
  if (/\/src\/(api|workspaces|domain|crypto|app\.|admin|health)/.test(url))
    return 'HTTP and Nest pipeline (guards, validation, serialization)';
  return undefined;
}

/**
 * Shares of the app's busy CPU by part, from the samples after `skipMs` of profile time (start-up
 * and warm-up). Undefined when the profile holds no busy sample.
 */
export function partShares(file: string, skipMs: number): Record<Part, number> | undefined {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, Part | 'idle'>();
  const rank = (p: Part) => PARTS.indexOf(p);
  const partOf = (id: number): Part | 'idle' => {
    const known = memo.get(id);
    if (known) return known;
    let best: Part | undefined;
    let inRequest = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      const p = frameParts(f.url, f.functionName);
      if (p === 'idle') {
        memo.set(id, 'idle');
        return 'idle';
      }
      // Socket.IO's engine puts its own 'request' listener in front of the HTTP server's and calls
      // Fastify from it, so every HTTP request runs under an engine.io frame: below Fastify, that
      // frame is the request's, not the relay's.
      inRequest ||= FASTIFY.test(f.url);
      if (p === 'relay and broadcast' && inRequest && SOCKET_IO.test(f.url)) continue;
      if (p && (best === undefined || rank(p) < rank(best))) best = p;
    }
    const part = best ?? 'other (V8, native)';
    memo.set(id, part);
    return part;
  };
  const counts = new Map<Part, number>();
  let elapsedUs = 0;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    elapsedUs += profile.timeDeltas[i] ?? 0;
    if (elapsedUs < skipMs * 1000) return;
    const part = partOf(id);
    if (part === 'idle') return;
    busy++;
    counts.set(part, (counts.get(part) ?? 0) + 1);
  });
  if (!busy) return undefined;
  return Object.fromEntries(PARTS.map((p) => [p, (counts.get(p) ?? 0) / busy])) as Record<Part, number>;
}
