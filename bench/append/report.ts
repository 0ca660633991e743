import os from 'node:os';
import { type Figure, figure, type Ratio, ratio, roundsFigure } from '../results.js';
import type { CellResult } from './cell.js';
import { type Part, PARTS } from './parts.js';
import { LOW_LOAD_RUNS, type LowLoadRun, type Variant, VARIANTS } from './variants.js';

export interface Row {
  channels: number;
  clients: number;
  cells: Partial<Record<Variant, CellResult>>;
  /** App CPU per post of (c) and (e), the table's cell first, then `--cpu-rounds` more cells of each, alternated. */
  cpuRounds?: { c: number[]; e: number[] };
}

export const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const n0 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : Math.round(v).toLocaleString('en-US'));
const n1 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(1));
const quotient = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined || !y ? '-' : (x / y).toFixed(2));
const rate = (row: Row, v: Variant) => row.cells[v]?.throughput.rate;

/** Plain padded text: the first column left-aligned, the rest right-aligned. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function resultsTable(rows: Row[]): string {
  const has = (v: Variant) => rows.some((row) => row.cells[v]);
  const header = [
    'channels x clients',
    '(a) insert/s',
    '(b) store/s',
    '(c) http/s',
    '(d) emmett/s',
    'b/a',
    'b/d',
    'c/a',
    'c p50 ms',
    'c p99 ms',
    'c at /s',
  ];
  if (has('e')) header.push('(e) floor/s', 'c/e');
  if (has('g')) header.push('(g) 2 procs/s', 'g/c');
  if (has('f')) header.push('(f) bare/s', 'f/a');
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
        quotient(rate(row, 'b'), rate(row, 'a')),
        quotient(rate(row, 'b'), rate(row, 'd')),
        quotient(rate(row, 'c'), rate(row, 'a')),
        n1(lat?.p50),
        n1(lat?.p99),
        n0(lat?.achievedRate),
      ];
      if (has('e')) cells.push(n0(rate(row, 'e')), quotient(rate(row, 'c'), rate(row, 'e')));
      if (has('g')) cells.push(n0(rate(row, 'g')), quotient(rate(row, 'g'), rate(row, 'c')));
      if (has('f')) cells.push(n0(rate(row, 'f')), quotient(rate(row, 'f'), rate(row, 'a')));
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
      out.push(
        `${row.channels} x ${row.clients} (${variant}): ${failed.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} calls failed${variant === 'd' ? ' (version conflicts on a shared stream)' : ''}`,
      );
    }
  }
  return out;
}

/** The issue's targets: the single post at low load, and the 100 channels x 16 clients row when it was measured. */
export function targets(rows: Row[], parts?: PartsCell, low?: LowLoad): string[] {
  const row = rows.find((r) => r.channels === 100 && r.clients === 16);
  const { figures, ratios } = results(row ? [row] : [], parts, low);
  const shown = [...ratios.filter((r) => r.target || r.name.startsWith(LOW_LOAD)), ...figures.filter((f) => f.target)];
  const lines = shown.map((c) => {
    const goal = c.target ? `${c.target.op} ${c.target.value}${'unit' in c ? ` ${c.unit}` : ''}` : '';
    const label = c.name.replace(/, 100 channels x 16 clients$/, ' (100 x 16)');
    if (c.value === null) return `${label.padEnd(80)} not measured${goal ? `  (target ${goal})` : ''}`;
    const verdict = goal ? `target ${goal.padEnd(9)} ${c.met ? 'met' : 'MISSED'}${c.limitedBy ? ` (${c.limitedBy})` : ''}` : '(no target)';
    return `${label.padEnd(80)} ${c.value.toFixed(2).padStart(6)}  ${verdict}`;
  });
  if (!row) lines.push('(the 100 channels x 16 clients row was not measured)');
  return lines;
}

const cell = (row: Row) => `${row.channels} channels x ${row.clients} clients`;

/**
 * Every cell's figures for bench/results/append.json, and the issue's targets on the 100 x 16 row.
 * A miss names its limit where the CPU figures show it.
 */
export function results(rows: Row[], parts?: PartsCell, low?: LowLoad): { figures: Figure[]; ratios: Ratio[] } {
  const figures: Figure[] = [];
  const ratios: Ratio[] = [];
  if (low) lowLoadResults(low, figures, ratios);
  for (const row of rows) {
    const at = cell(row);
    const rates = {} as Record<Variant, Figure>;
    for (const [variant, c] of Object.entries(row.cells) as Array<[Variant, CellResult]>) {
      rates[variant] = figure(`(${variant}) ${VARIANTS[variant]}, ${at}`, c.throughput.rate, 'events/s');
      figures.push(rates[variant]);
      if (c.cpu) {
        figures.push(figure(`(${variant}) PostgreSQL CPU per event, ${at}`, c.cpu.dbUs, 'µs'));
        figures.push(figure(`(${variant}) load generator CPU per event, ${at}`, c.cpu.clientUs, 'µs'));
        if (c.cpu.appUs !== undefined) figures.push(figure(`(${variant}) app CPU per event, ${at}`, c.cpu.appUs, 'µs'));
        if (c.cpu.appMainUs !== undefined)
          figures.push(figure(`(${variant}) app JavaScript thread CPU per event, ${at}`, c.cpu.appMainUs, 'µs'));
        if (c.cpu.appBusy !== undefined) figures.push(figure(`(${variant}) app JavaScript thread busy, ${at}`, 100 * c.cpu.appBusy, '%'));
      }
    }
    if (row.channels !== 100 || row.clients !== 16) continue;
    const cpu = (v: Variant) => row.cells[v]?.cpu;
    const dbBound = (x: Variant, y: Variant) =>
      cpu(x) && cpu(y) && cpu(x)!.dbUs > cpu(y)!.dbUs
        ? `PostgreSQL CPU per event: ${Math.round(cpu(x)!.dbUs)} µs against ${Math.round(cpu(y)!.dbUs)} µs`
        : undefined;
    const busy = cpu('c')?.appBusy;
    const pair = (x: Variant, y: Variant, target: number, limit: string | undefined) =>
      rates[x] &&
      rates[y] &&
      ratios.push(ratio(`(${x}) ${VARIANTS[x]} / (${y}) ${VARIANTS[y]}, ${at}`, rates[x], rates[y], { op: '>=', value: target }, limit));
    const appBound = (v: Variant) =>
      cpu(v)?.appBusy !== undefined && cpu(v)!.appBusy! >= 0.9
        ? `the app's JavaScript thread, busy ${Math.round(100 * cpu(v)!.appBusy!)}% of the window`
        : undefined;
    pair('b', 'a', 0.6, dbBound('b', 'a'));
    pair('b', 'd', 3, dbBound('b', 'd'));
    pair(
      'c',
      'a',
      0.35,
      busy !== undefined && busy >= 0.9 ? `the app's one JavaScript thread, busy ${Math.round(100 * busy)}% of the window` : undefined,
    );
    pair('c', 'e', 0.7, appBound('c'));
    const limitOfTwo =
      cpu('g') && cpu('g')!.dbWaitUs > cpu('g')!.dbUs
        ? 'the two cores: the backends waited longer for a core than they ran (app, PostgreSQL and load generator share them)'
        : dbBound('g', 'c');
    pair('g', 'c', 1.4, limitOfTwo);
    if (cpu('c')?.appUs !== undefined && cpu('e')?.appUs !== undefined) {
      const rounds = row.cpuRounds;
      const median = (v: 'c' | 'e') =>
        roundsFigure(`(${v}) app CPU per event, median of ${rounds![v].length} cells, ${at}`, rounds![v], 'µs');
      const appC = rounds ? median('c') : figures.find((f) => f.name === `(c) app CPU per event, ${at}`)!;
      const appE = rounds ? median('e') : figures.find((f) => f.name === `(e) app CPU per event, ${at}`)!;
      if (rounds) figures.push(appC, appE);
      // What (c) pays that (e) does not is Nest's request path: say how much, and the profile's share of it.
      const extra = appC.value! - appE.value!;
      const nest = parts?.shares['HTTP and Nest pipeline (guards, validation, serialization)'];
      ratios.push(
        ratio(
          `app CPU per post: (c) chat.postMessage / (e) the bare route, ${at}`,
          appC,
          appE,
          { op: '<=', value: 1.4 },
          `Nest's request path: ${Math.round(extra)} µs of app CPU per post more than the bare route` +
            (nest !== undefined && parts
              ? ` (the profiled cell: ${Math.round(nest * parts.appUs)} µs in HTTP and the Nest pipeline, Fastify's share, which (e) pays too, included)`
              : ''),
        ),
      );
    }
    const lat = row.cells.c?.latency;
    if (lat) {
      figures.push(figure(`(c) p50 at half of its peak, ${at}`, lat.p50, 'ms'));
      const waited =
        cpu('c') && cpu('c')!.dbWaitUs > cpu('c')!.dbUs
          ? 'an oversubscribed box: the backends waited longer for a core than they ran'
          : undefined;
      figures.push(figure(`(c) p99 at half of its peak, ${at}`, lat.p99, 'ms', { op: '<=', value: 20 }, waited));
    }
  }
  if (parts) {
    const at = `${parts.channels} channels x ${parts.clients} clients`;
    figures.push(figure(`(c) profiled, projector and dispatcher on: app CPU per post, ${at}`, parts.appUs, 'µs'));
    for (const part of PARTS) {
      const consumer = part === 'projector' || part === 'job dispatcher';
      figures.push(
        figure(
          `(c) profiled: app CPU per post in ${part}, ${at}`,
          parts.shares[part] * parts.appUs,
          'µs',
          consumer ? { op: '<=', value: 50 } : undefined,
        ),
      );
    }
  }
  return { figures, ratios };
}

/** The single post at low load: one client posting on a fixed schedule, per variant (b, e, c). */
export interface LowLoad {
  rate: number;
  channels: number;
  rounds: number;
  cells: Partial<Record<LowLoadRun, CellResult>>;
}

const LOW_LOAD = 'single post at low load';

/**
 * p50 and p99 of a single post at low load for (b), (e) and (c), their CPU per post, and the issue's
 * ratio (c)/(b) of the p50s (target <= 1.5) with (e)/(b), the floor HTTP itself sets, beside it, and
 * the round trip of (e)'s server with no database, what HTTP alone costs on this box.
 */
function lowLoadResults(low: LowLoad, figures: Figure[], ratios: Ratio[]): void {
  const at = `1 client at ${low.rate} posts/s, ${low.channels} channel${low.channels === 1 ? '' : 's'}`;
  const p50: Partial<Record<LowLoadRun, Figure>> = {};
  for (const [run, c] of Object.entries(low.cells) as Array<[LowLoadRun, CellResult]>) {
    if (!c.latency) continue;
    const label = LOW_LOAD_RUNS[run].label;
    p50[run] = figure(`${label}, ${LOW_LOAD}, p50, ${at}`, c.latency.p50, 'ms');
    figures.push(p50[run], figure(`${label}, ${LOW_LOAD}, p99, ${at}`, c.latency.p99, 'ms'));
    if (c.cpu?.appUs !== undefined) figures.push(figure(`${label}, app CPU per post, ${LOW_LOAD}, ${at}`, c.cpu.appUs, 'µs'));
    if (c.cpu) figures.push(figure(`${label}, PostgreSQL CPU per post, ${LOW_LOAD}, ${at}`, c.cpu.dbUs, 'µs'));
  }
  const { b, e, c, hop } = p50;
  const api = p50['c-api'];
  const ms = (f: Figure) => `${f.value!.toFixed(2)} ms`;
  if (c && b) {
    const limits: string[] = [];
    if (e?.value && b.value && e.value / b.value > 1.5)
      limits.push(
        `the bare route (e) alone is ${(e.value / b.value).toFixed(2)}x the store call (${ms(e)} against ${ms(b)}): the HTTP client and server on this box, before any of the app's code` +
          (hop?.value ? ` (one HTTP round trip with no database: ${ms(hop)}, the processes' wake-ups on this box)` : ''),
      );
    if (api?.value && c.value && api.value < c.value)
      limits.push(`the app's consumers (default ROLES): ${ms(c)} against ${ms(api)} with ROLES=api`);
    if (e?.value && (api ?? c).value! > e.value) limits.push(`the app's request path: ${ms(api ?? c)} against ${ms(e)} for the bare route`);
    ratios.push(
      ratio(
        `${LOW_LOAD}: (c) over HTTP, default ROLES / (b) the store call alone, p50, ${at}`,
        c,
        b,
        { op: '<=', value: 1.5 },
        limits.join('; '),
      ),
    );
  }
  if (api && b) ratios.push(ratio(`${LOW_LOAD}: (c) over HTTP, ROLES=api / (b) the store call alone, p50, ${at}`, api, b));
  if (e && b) ratios.push(ratio(`${LOW_LOAD}: (e) the bare route / (b) the store call alone, p50 (the floor), ${at}`, e, b));
}

/** The low-load runs as a console table: latency and CPU per post of each variant. */
export function lowLoadTable(low: LowLoad | undefined): string[] {
  if (!low) return [];
  const cells = (Object.entries(low.cells) as Array<[LowLoadRun, CellResult]>).map(([run, c]) => [
    LOW_LOAD_RUNS[run].label,
    c.latency ? c.latency.p50.toFixed(2) : '-',
    c.latency ? c.latency.p99.toFixed(2) : '-',
    c.latency ? c.latency.max.toFixed(2) : '-',
    n0(c.latency?.samples),
    n0(c.cpu?.clientUs),
    n0(c.cpu?.appUs),
    n0(c.cpu?.dbUs),
  ]);
  return [
    `Single post at low load (one client, ${low.rate} posts/s on a fixed schedule, ${low.rounds} round(s) pooled, ${low.channels} channels; CPU in µs per post):`,
    formatTable(['variant', 'p50 ms', 'p99 ms', 'max ms', 'posts', 'client', 'app', 'db'], cells),
    '',
  ];
}

/** The profiled (c) cell: the app's CPU per post, and its shares by part. */
export interface PartsCell {
  channels: number;
  clients: number;
  rate: number;
  appUs: number;
  shares: Record<Part, number>;
}

export function partsTable(parts: PartsCell | undefined): string[] {
  if (!parts) return [];
  return [
    `App CPU per post by part, (c) at ${parts.channels} channels x ${parts.clients} clients under --cpu-prof, projector and job`,
    `dispatcher on (${Math.round(parts.rate)} posts/s, ${Math.round(parts.appUs)} µs of app CPU per post):`,
    formatTable(
      ['part', 'µs/post', 'share'],
      PARTS.map((p) => [p, n0(parts.shares[p] * parts.appUs), `${(100 * parts.shares[p]).toFixed(1)}%`]),
    ),
    '',
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
        n0(cell.cpu!.appMainUs),
        n0(cell.cpu!.dbUs),
        n0(cell.cpu!.clientUs + (cell.cpu!.appUs ?? 0) + cell.cpu!.dbUs),
        n0(cell.cpu!.dbWaitUs),
        cell.cpu!.appBusy === undefined ? '-' : `${Math.round(100 * cell.cpu!.appBusy)}%`,
      ]),
  );
  if (!cells.length) return [];
  return [
    "CPU per event, microseconds (client = the load process; app js = the app's JavaScript thread alone, the rest of app is",
    'its GC and libuv threads; db = its PostgreSQL backends; db wait = their run-queue wait; app busy = share of the window',
    "the app's JavaScript thread was running or waiting for a core):",
    formatTable(['cell', 'client', 'app', 'app js', 'db', 'total', 'db wait', 'app busy'], cells),
    '',
  ];
}
