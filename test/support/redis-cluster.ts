import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 })).stdout;
}

/**
 * A throw-away Redis Cluster of 3 masters (no replicas) on free loopback ports, in a temp dir.
 * `nodes` is `host:port,host:port,host:port`, ready for REDIS_CLUSTER_NODES. `stop()` kills the
 * servers and removes the dir.
 */
export async function startRedisCluster(): Promise<{ nodes: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'atomcast-redis-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      ports.push(port);
      // Each node keeps its cluster state file in its own dir; nothing is persisted otherwise.
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '5000',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
      // Generous: a loaded 2-core box starts it slowly.
      await waitFor(async () => (await cli(port, 'ping').catch(() => '')).includes('PONG'), 30_000, `redis-server on ${port} to answer`);
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 60_000,
    });
    // Every node must agree that all slots are served before a client is let loose on it.
    for (const port of ports)
      await waitFor(
        async () => (await cli(port, 'cluster', 'info').catch(() => '')).includes('cluster_state:ok'),
        30_000,
        `cluster_state:ok on ${port}`,
      );
    return { nodes: ports.map((p) => `127.0.0.1:${p}`).join(','), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
