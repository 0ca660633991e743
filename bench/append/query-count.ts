import pg from 'pg';

// With BENCH_COUNT_QUERIES=1, a server of bench:append ((c) app-server.ts, (e) floor-server.ts)
// counts every SQL statement it sends through pg and prints them on stop: round trips per request,
// seen from the driver, comparable between the app and the floor.
const queries = new Map<string, number>();

if (process.env.BENCH_COUNT_QUERIES === '1') {
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string } | undefined;
    const text = (typeof first === 'string' ? first : (first?.text ?? '?')).replace(/\s+/g, ' ').slice(0, 100);
    queries.set(text, (queries.get(text) ?? 0) + 1);
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
}

/** Writes the counted statements to stderr, most frequent first (nothing when not counting). */
export function printQueryCounts(server: string): void {
  if (!queries.size) return;
  const lines = [...queries].sort((a, b) => b[1] - a[1]).map(([text, n]) => `${String(n).padStart(9)}  ${text}`);
  process.stderr.write(`${server} queries (count, statement):\n${lines.join('\n')}\n`);
}
