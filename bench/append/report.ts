import os from 'node:os';
import { type Figure, figure, type Ratio, ratio } from '../results.js';
import type { CellResult } from './cell.js';
import { type Part, PARTS } from './parts.js';
import { type Variant, VARIANTS } from './variants.js';

export interface Row {
  channels: number;
  clients: number;
  cells: Partial<Record<Variant, CellResult>>;
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

/** The issue's targets, checked on the 100 channels x 16 clients row when it was measured. */
export function targets(rows: Row[], parts?: PartsCell): string[] {
  const row = rows.find((r) => r.channels === 100 && r.clients === 16);
  if (!row) return ['(the 100 channels x 16 clients row was not measured)'];
  const single = rows.filter((r) => r.clients === 1).sort((x, y) => x.channels - y.channels)[0];
  const { figures, ratios } = results(single && single !== row ? [single, row] : [row], parts);
  const checked = [...ratios, ...figures.filter((f) => f.target)];
  return checked.map((c) => {
    const goal = `${c.target!.op} ${c.target!.value}${'unit' in c ? ` ${c.unit}` : ''}`;
    const label = c.name.replace(/, 100 channels x 16 clients$/, '');
    return c.value === null
      ? `${label.padEnd(72)} not measured  (target ${goal})`
      : `${label.padEnd(72)} ${c.value.toFixed(2).padStart(6)}  target ${goal.padEnd(9)} ${c.met ? 'met' : 'MISSED'}${c.limitedBy ? ` (${c.limitedBy})` : ''}`;
  });
}

const cell = (row: Row) => `${row.channels} channels x ${row.clients} clients`;

/**
 * Every cell's figures for bench/results/append.json, and the issue's targets on the 100 x 16 row.
 * A miss names its limit where the CPU figures show it.
 */
export function results(rows: Row[], parts?: PartsCell): { figures: Figure[]; ratios: Ratio[] } {
  const figures: Figure[] = [];
  const ratios: Ratio[] = [];
  // A single post at low load: the mean call time of one closed-loop client (1 / rate), over HTTP
  // against the store call alone, on the fewest channels measured with one client.
  const single = rows.filter((r) => r.clients === 1).sort((x, y) => x.channels - y.channels)[0];
  if (single?.cells.b && single.cells.c) {
    const at = cell(single);
    const ms = (v: Variant) => figure(`(${v}) ${VARIANTS[v]}, mean time of one call, ${at}`, 1000 / rate(single, v)!, 'ms');
    const [c, b] = [ms('c'), ms('b')];
    figures.push(c, b);
    ratios.push(ratio(`single post over HTTP / the store call alone, mean, ${at}`, c, b, { op: '<=', value: 1.5 }));
  }
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
      const appC = figures.find((f) => f.name === `(c) app CPU per event, ${at}`)!;
      const appE = figures.find((f) => f.name === `(e) app CPU per event, ${at}`)!;
      ratios.push(ratio(`app CPU per post: (c) chat.postMessage / (e) the bare route, ${at}`, appC, appE, { op: '<=', value: 1.4 }));
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
        n0(cell.cpu!.dbUs),
        n0(cell.cpu!.clientUs + (cell.cpu!.appUs ?? 0) + cell.cpu!.dbUs),
        n0(cell.cpu!.dbWaitUs),
        cell.cpu!.appBusy === undefined ? '-' : `${Math.round(100 * cell.cpu!.appBusy)}%`,
      ]),
  );
  if (!cells.length) return [];
  return [
    'CPU per event, microseconds (client = the load process; db = its PostgreSQL backends; db wait = their run-queue wait;',
    "app busy = share of the window the app's JavaScript thread was running or waiting for a core):",
    formatTable(['cell', 'client', 'app', 'db', 'total', 'db wait', 'app busy'], cells),
    '',
  ];
}
