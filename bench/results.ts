// Every benchmark writes what it measured to bench/results/<benchmark>.json through this module; the
// README's performance tables are generated from those files (bench/readme-tables.ts), so a figure in
// the README always names the run, commit and machine it came from.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const BENCHMARKS = [
  'append',
  'fanout',
  'projections',
  'jobs',
  'reactions',
  'profiles',
  'web',
  'notify',
  'files',
  'apps',
  'search',
  'citus',
  'consumers',
] as const;
export type Benchmark = (typeof BENCHMARKS)[number];

/** The repository root, from bench/ or from its compiled copy in dist-bench/bench/. */
export const REPO_ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist-bench/') ? '../../' : '../', import.meta.url));
export const RESULTS_DIR = `${REPO_ROOT}bench/results`;

export interface Target {
  op: '>=' | '<=';
  value: number;
}

/** One measured quantity. `value` is null when it could not be measured (the run says why). */
export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  target?: Target;
  met?: boolean;
  /** What limits it, when the target is missed and the benchmark can tell. */
  limitedBy?: string;
  /** A median of rounds (`roundsFigure`): the lowest and highest round, so the noise shows. */
  spread?: { rounds: number; min: number; max: number };
}

/** A figure over its baseline from the same run (both named among `figures`). */
export interface Ratio {
  name: string;
  value: number | null;
  numerator: string;
  denominator: string;
  target?: Target;
  met?: boolean;
  limitedBy?: string;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  postgresql: string;
  postgresqlSettings: Record<string, string>;
  /** 1, 5 and 15 minute load averages when the run started and ended: other work skews every figure. */
  loadAverage: { start: number[]; end?: number[] };
}

export interface BenchResults {
  benchmark: Benchmark;
  date: string;
  commit: string;
  /** Files other than bench/results/ and *.md differed from the commit when the run started. */
  dirty: boolean;
  /** A --quick run: for checking the harness, not for figures. */
  quick: boolean;
  args: string[];
  seconds: number;
  machine: Machine;
  figures: Figure[];
  ratios: Ratio[];
  notes?: string[];
}

export const meets = (value: number, target: Target) => (target.op === '>=' ? value >= target.value : value <= target.value);
const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** A figure; with a target, whether it is met and (when missed) what limits it. */
export function figure(name: string, value: number | null | undefined, unit: string, target?: Target, limitedBy?: string): Figure {
  const f: Figure = { name, value: finite(value) ? value : null, unit };
  if (target) {
    f.target = target;
    if (f.value !== null) f.met = meets(f.value, target);
    if (f.met === false && limitedBy) f.limitedBy = limitedBy;
  }
  return f;
}

/** The median of several rounds' values, with their spread (a short measure run once is noisy on a shared box). */
export function roundsFigure(name: string, values: number[], unit: string, target?: Target): Figure {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { ...figure(name, median, unit, target), spread: { rounds: sorted.length, min: sorted[0], max: sorted[sorted.length - 1] } };
}

/** numerator / denominator, with the same target bookkeeping as `figure`. */
export function ratio(name: string, numerator: Figure, denominator: Figure, target?: Target, limitedBy?: string): Ratio {
  const value = numerator.value !== null && denominator.value ? numerator.value / denominator.value : null;
  const r: Ratio = { name, value, numerator: numerator.name, denominator: denominator.name };
  if (target) {
    r.target = target;
    if (value !== null) r.met = meets(value, target);
    if (r.met === false && limitedBy) r.limitedBy = limitedBy;
  }
  return r;
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** What a run is started with: when, on which commit, on which machine. Call it before measuring. */
export async function startRun(
  databaseUrl: string,
): Promise<{ started: number; date: string; commit: string; dirty: boolean; machine: Machine }> {
  const started = Date.now();
  // Results and docs (the README's generated tables above all) do not change what is measured.
  const dirty = git(['status', '--porcelain', '--', '.', ':(exclude)bench/results', ':(exclude,glob)**/*.md']);
  return {
    started,
    date: new Date(started).toISOString(),
    commit: git(['rev-parse', 'HEAD']) ?? 'unknown',
    dirty: dirty === undefined || dirty !== '',
    machine: await machine(databaseUrl),
  };
}

async function machine(databaseUrl: string): Promise<Machine> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: string }>('SELECT version()');
    const settings = await client.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
        WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync', 'max_connections', 'wal_level', 'commit_delay')
        ORDER BY name`,
    );
    const cpus = os.cpus();
    return {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      postgresql: rows[0].version,
      postgresqlSettings: Object.fromEntries(settings.rows.map((s) => [s.name, `${s.setting}${s.unit ? ` ${s.unit}` : ''}`])),
      loadAverage: { start: loadAverage() },
    };
  } finally {
    await client.end();
  }
}

const loadAverage = () => os.loadavg().map((l) => Math.round(l * 100) / 100);

/** The machine as the console tables print it. */
export function machineLines(m: Machine): string[] {
  return [
    `cpus:       ${m.cpus} x ${m.cpuModel}`,
    `memory:     ${m.memoryGiB} GiB`,
    `os:         ${m.os}`,
    `node:       ${m.node}`,
    `postgresql: ${m.postgresql}`,
    `pg config:  ${Object.entries(m.postgresqlSettings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    `load avg:   ${m.loadAverage.start.join(' ')} (1/5/15 min, at start; other work on the box skews every figure)`,
  ];
}

/**
 * Writes bench/results/<benchmark>.json (or `file`) and says where on stderr. Every run overwrites
 * the file, partial runs (--only, --variants, ...) included: `args` records what was run.
 */
export function writeResults(
  run: Awaited<ReturnType<typeof startRun>>,
  results: { benchmark: Benchmark; quick: boolean; figures: Figure[]; ratios: Ratio[]; notes?: string[] },
  file = `${RESULTS_DIR}/${results.benchmark}.json`,
): void {
  const out: BenchResults = {
    benchmark: results.benchmark,
    date: run.date,
    commit: run.commit,
    dirty: run.dirty,
    quick: results.quick,
    args: process.argv.slice(2),
    seconds: Math.round((Date.now() - run.started) / 1000),
    machine: { ...run.machine, loadAverage: { ...run.machine.loadAverage, end: loadAverage() } },
    figures: results.figures,
    ratios: results.ratios,
    ...(results.notes?.length ? { notes: results.notes } : {}),
  };
  const names = new Set(out.figures.map((f) => f.name));
  for (const r of out.ratios) {
    if (!names.has(r.numerator) || !names.has(r.denominator)) throw new Error(`ratio ${r.name}: its figures are not recorded`);
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  process.stderr.write(`results written to ${file}\n`);
}
