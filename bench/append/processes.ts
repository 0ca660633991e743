import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CellResult, CellSpec } from './cell.js';

const CELL = fileURLToPath(new URL('./cell.js', import.meta.url));
const SERVERS = {
  app: fileURLToPath(new URL('./app-server.js', import.meta.url)),
  floor: fileURLToPath(new URL('./floor-server.js', import.meta.url)),
};

/** Every child still running, so an interrupted run can stop them before dropping the database. */
export const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * Asks a child started here to stop ({stop: true} over IPC) and kills it if it has not exited after
 * `graceMs`. False when it had to be killed (a --cpu-prof profile is written only by an exit).
 */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.signalCode === null);
    let killed = false;
    const force = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve(!killed);
    });
    child.send({ stop: true });
  });
}

/** Runs one cell in a fresh Node process and returns what it measured. */
export function runCellProcess(spec: CellSpec, execArgv: string[] = []): Promise<CellResult> {
  const child = track(fork(CELL, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return new Promise((resolve, reject) => {
    let settled = false;
    child.once('message', (msg: { result?: CellResult; error?: string }) => {
      settled = true;
      if (msg.result) resolve(msg.result);
      else reject(new Error(`cell ${spec.variant} failed: ${msg.error}`));
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`cell ${spec.variant} exited with ${code} before reporting`));
    });
    child.send(spec);
  });
}

export interface AppServer {
  url: string;
  pid: number;
  /** When it listened, in ms since its process started. */
  readyMs: number;
  /** False when it did not exit within `graceMs` (default 10 s) and was killed. */
  stop(graceMs?: number): Promise<boolean>;
}

/**
 * Starts the real app (createApp from src/app.ts; `floor`: the bare Fastify route of (e)) in a child
 * process on a random port.
 */
export function startAppServer(
  env: Record<string, string>,
  execArgv: string[] = [],
  server: keyof typeof SERVERS = 'app',
): Promise<AppServer> {
  // The app logs to stdout with pino; keep the table on our stdout clean.
  const child = track(fork(SERVERS[server], [], { execArgv, env: { ...process.env, ...env }, stdio: ['ignore', 2, 'inherit', 'ipc'] }));
  const stop = (graceMs?: number) => stopChild(child, graceMs);
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => {
      void stop();
      reject(new Error('app server did not start within 60 s'));
    }, 60_000);
    child.once('message', (msg: { port: number; readyMs: number }) => {
      clearTimeout(timeout);
      resolve({ url: `http://127.0.0.1:${msg.port}`, pid: child.pid!, readyMs: msg.readyMs, stop });
    });
    child.once('exit', (code) => {
      clearTimeout(timeout);
      reject(new Error(`app server exited with ${code} during start-up`));
    });
  });
}
