// The processes of bench:fanout: the socket client processes (Clients) and the servers, ours and the
// baseline (startServer), each forked apart from the benchmark.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { children } from '../append/processes.js';
import type { WindowCommand, WindowReport } from './app-server.js';
import type { ClientCommand, ClientReport } from './clients.js';

export class Clients {
  private readonly procs: ChildProcess[] = [];
  private readonly waiting = new Map<string, { total: number; at: number; expected: number; resolve: (at: number) => void }>();

  constructor(n: number) {
    const file = fileURLToPath(new URL('./clients.js', import.meta.url));
    for (let i = 0; i < n; i++) {
      const child = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.add(child);
      child.on('message', (r: ClientReport) => this.onReport(r));
      this.procs.push(child);
    }
  }

  private onReport(r: ClientReport): void {
    if (r.type === 'done') {
      const w = this.waiting.get(r.key);
      if (!w) return;
      w.total += r.count;
      w.at = Math.max(w.at, r.at);
      if (w.total >= w.expected) {
        this.waiting.delete(r.key);
        w.resolve(w.at);
      }
    }
  }

  /** Resolves with the time the last of `expected` sockets received `key`. */
  expect(key: string, expected: number, timeoutMs = 60_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new Error(`${key}: not delivered to all ${expected} sockets`));
      }, timeoutMs);
      this.waiting.set(key, { total: 0, at: 0, expected, resolve: (at) => (clearTimeout(timer), resolve(at)) });
    });
  }

  /** Sends one command to each process and gathers one reply from each. */
  private all(commands: ClientCommand[]): Promise<ClientReport[]> {
    return Promise.all(
      commands.map(
        (cmd, i) =>
          new Promise<ClientReport>((resolve) => {
            const child = this.procs[i];
            const handler = (r: ClientReport) => {
              if (r.type === 'done') return;
              child.off('message', handler);
              resolve(r);
            };
            child.on('message', handler);
            child.send(cmd);
          }),
      ),
    );
  }

  async connect(url: string, sockets: Array<{ token?: string; channel: string }>): Promise<number> {
    const parts = this.procs.map(() => [] as typeof sockets);
    sockets.forEach((s, i) => parts[i % parts.length].push(s));
    const replies = await this.all(parts.map((p) => ({ type: 'connect', url, sockets: p, concurrency: 50 })));
    const failed = replies.reduce((n, r) => n + (r.type === 'connected' ? r.failed : 0), 0);
    if (failed) process.stderr.write(`  ${failed} sockets failed to connect\n`);
    return replies.reduce((n, r) => n + (r.type === 'connected' ? r.ok : 0), 0);
  }

  async close(): Promise<void> {
    await this.all(this.procs.map(() => ({ type: 'close' })));
  }

  async catchUp(url: string, token: string, channel: string, count: number): Promise<number> {
    const child = this.procs[0];
    return new Promise((resolve) => {
      const handler = (r: ClientReport) => {
        if (r.type !== 'catchup') return;
        child.off('message', handler);
        resolve(r.ms);
      };
      child.on('message', handler);
      child.send({ type: 'catchup', url, token, channel, count } satisfies ClientCommand);
    });
  }

  stop(): void {
    for (const p of this.procs) p.kill();
  }
}

export interface ServerProcess {
  url: string;
  pid: number;
  send(msg: unknown): void;
  rss(): Promise<number>;
  /** Our app only: starts or stops its measured window (event-loop delay, optional CPU profile). */
  window(cmd: WindowCommand): Promise<WindowReport | undefined>;
  stop(): Promise<void>;
}

/** Forks a server script (ours or the baseline) with --expose-gc and waits for its port. */
export function startServer(script: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 2, 'inherit', 'ipc'],
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    child.once('message', (msg: { port: number }) =>
      resolve({
        url: `http://127.0.0.1:${msg.port}`,
        pid: child.pid!,
        send: (m) => child.send(m as object),
        rss: () =>
          new Promise((done) => {
            const handler = (r: { rss?: number }) => {
              if (r.rss === undefined) return;
              child.off('message', handler);
              done(r.rss);
            };
            child.on('message', handler);
            child.send({ rss: true });
          }),
        window: (cmd) =>
          new Promise((done) => {
            const handler = (r: { window?: string; report?: WindowReport }) => {
              if (!r.window) return;
              child.off('message', handler);
              done(r.report);
            };
            child.on('message', handler);
            child.send(cmd);
          }),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => (clearTimeout(force), done()));
            child.send({ stop: true });
          }),
      }),
    );
  });
}
