import os from 'node:os';
import pg from 'pg';
import type { CellResult } from './cell.js';
import type { Variant } from './workloads.js';

export interface Row {
  channels: number;
  clients: number;
  cells: Partial<Record<Variant, CellResult>>;
}

/** The machine the numbers belong to: without it a figure means nothing. */
export async function describeMachine(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: string }>('SELECT version()');
    const settings = await client.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
        WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync', 'max_connections', 'wal_level', 'commit_delay')
        ORDER BY name`,
    );
    const cpus = os.cpus();
    return [
      `cpus:       ${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown'}`,
      `memory:     ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB (${(os.freemem() / 2 ** 30).toFixed(1)} GiB free)`,
      `os:         ${os.type()} ${os.release()} ${os.arch()}`,
      `node:       ${process.version}`,
      `postgresql: ${rows[0].version}`,
      `pg config:  ${settings.rows.map((s) => `${s.name}=${s.setting}${s.unit ? ` ${s.unit}` : ''}`).join(', ')}`,
      `load avg:   ${loadAverage()} (1/5/15 min, at start; other work on the box skews every figure)`,
    ];
  } finally {
    await client.end();
  }
}

export const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

const n0 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : Math.round(v).toLocaleString('en-US'));
const n1 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(1));
const ratio = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined || !y ? '-' : (x / y).toFixed(2));
const rate = (row: Row, v: Variant) => row.cells[v]?.throughput.rate;

/** Plain padded text: the first column left-aligned, the rest right-aligned. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function resultsTable(rows: Row[]): string {
  const bare = rows.some((row) => row.cells.e);
  const header = ['channels x clients', '(a) insert/s', '(b) store/s', '(c) http/s', '(d) emmett/s', 'b/a', 'b/d', 'c/a', 'c p50 ms', 'c p99 ms', 'c at /s'];
  if (bare) header.push('(e) bare/s', 'e/a');
  return formatTable(
    header,
    rows.map((row) => {
      const lat = row.cells.c?.latency;
      const cells = [
        `${row.channels} x ${row.clients}`,
        n0(rate(row, 'a')),
        n0(rate(row, 'b')),
        n0(rate(row, 'c')),
        n0(rate(row, 'd')),
        ratio(rate(row, 'b'), rate(row, 'a')),
        ratio(rate(row, 'b'), rate(row, 'd')),
        ratio(rate(row, 'c'), rate(row, 'a')),
        n1(lat?.p50),
        n1(lat?.p99),
        n0(lat?.achievedRate),
      ];
      if (bare) cells.push(n0(rate(row, 'e')), ratio(rate(row, 'e'), rate(row, 'a')));
      return cells;
    }),
  );
}

/** Failed calls per cell (Emmett's optimistic-concurrency conflicts above all); silence means none. */
export function failures(rows: Row[]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    for (const [variant, cell] of Object.entries(row.cells)) {
      const failed = cell.throughput.failed + (cell.latency?.failed ?? 0);
      if (!failed) continue;
      const total = failed + cell.throughput.ok + (cell.latency?.samples ?? 0);
      out.push(`${row.channels} x ${row.clients} (${variant}): ${failed.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} calls failed${variant === 'd' ? ' (version conflicts on a shared stream)' : ''}`);
    }
  }
  return out;
}

/** The issue's targets, checked on the 100 channels x 16 clients row when it was measured. */
export function targets(rows: Row[]): string[] {
  const row = rows.find((r) => r.channels === 100 && r.clients === 16);
  if (!row) return ['(the 100 channels x 16 clients row was not measured)'];
  const check = (name: string, value: number | undefined, ok: (v: number) => boolean, goal: string, digits = 2) =>
    value === undefined || Number.isNaN(value)
      ? `${name.padEnd(20)} not measured  (target ${goal})`
      : `${name.padEnd(20)} ${value.toFixed(digits).padStart(6)}  target ${goal.padEnd(9)} ${ok(value) ? 'met' : 'MISSED'}`;
  const r = (x: Variant, y: Variant) => (rate(row, x) !== undefined && rate(row, y) ? rate(row, x)! / rate(row, y)! : undefined);
  return [
    check('(b)/(a)', r('b', 'a'), (v) => v >= 0.6, '>= 0.6'),
    check('(b)/(d)', r('b', 'd'), (v) => v >= 3, '>= 3'),
    check('(c)/(a)', r('c', 'a'), (v) => v >= 0.35, '>= 0.35'),
    check('(c) p99 at half peak', row.cells.c?.latency?.p99, (v) => v <= 20, '<= 20 ms', 1),
  ];
}

/**
 * CPU microseconds per event by process (client, app, PostgreSQL backends) and the backends'
 * run-queue wait: where each variant's cost goes, steadier than rates on a shared box.
 */
export function cpuTable(rows: Row[]): string[] {
  const cells = rows.flatMap((row) =>
    (Object.entries(row.cells) as Array<[Variant, CellResult]>)
      .filter(([, cell]) => cell.cpu)
      .map(([variant, cell]) => [
        `${row.channels} x ${row.clients} (${variant})`,
        n0(cell.cpu!.clientUs),
        n0(cell.cpu!.appUs),
        n0(cell.cpu!.dbUs),
        n0(cell.cpu!.clientUs + (cell.cpu!.appUs ?? 0) + cell.cpu!.dbUs),
        n0(cell.cpu!.dbWaitUs),
        cell.cpu!.appBusy === undefined ? '-' : `${Math.round(100 * cell.cpu!.appBusy)}%`,
      ]),
  );
  if (!cells.length) return [];
  return [
    'CPU per event, microseconds (client = the load process; db = its PostgreSQL backends; db wait = their run-queue wait;',
    'app busy = share of the window the app\'s JavaScript thread was running or waiting for a core):',
    formatTable(['cell', 'client', 'app', 'db', 'total', 'db wait', 'app busy'], cells),
    '',
  ];
}
