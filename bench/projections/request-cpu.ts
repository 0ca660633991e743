import pg from 'pg';
import { backendPids, times } from '../append/cpu.js';

/**
 * Where the time of sequential requests went, per request: CPU run by the benchmark database's
 * backends and by this process (the app and the fetch client that reads the answer), and how long
 * each was runnable but waiting for a core (schedstat). On a shared box the waits are the time other
 * work took: a p99 above its target with large waits is the box's load, not the code path.
 */
export interface RequestCpu {
  dbMs: number;
  dbWaitMs: number;
  appMs: number;
  appWaitMs: number;
}

/**
 * Starts a window; `stop(n)` ends it and divides by the n requests made in it. `application`: only
 * the backends of connections with that application_name (a pool of the benchmark's own, so that
 * an app working in the background is not counted), else every backend of the database.
 */
export async function requestCpu(url: string, application?: string): Promise<{ stop(n: number): Promise<RequestCpu> }> {
  const probe = new pg.Client({ connectionString: url });
  await probe.connect();
  const pids = async () =>
    application === undefined
      ? backendPids(probe)
      : (
          await probe.query<{ pid: number }>(
            'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
            [application],
          )
        ).rows.map((r) => r.pid);
  // A backend that connected meanwhile (a pool grows or replaces connections) counts from its start.
  const backends = async () => new Map((await pids()).map((pid) => [pid, times([pid])]));
  const db0 = await backends();
  const app0 = times([process.pid]);
  return {
    async stop(n) {
      const app = times([process.pid]);
      const db = await backends();
      await probe.end();
      let [dbRun, dbWait] = [0, 0];
      for (const [pid, t] of db) {
        dbRun += t.runNs - (db0.get(pid)?.runNs ?? 0);
        dbWait += t.waitNs - (db0.get(pid)?.waitNs ?? 0);
      }
      const perRequest = (ns: number) => ns / 1e6 / n;
      return {
        dbMs: perRequest(dbRun),
        dbWaitMs: perRequest(dbWait),
        appMs: perRequest(app.runNs - app0.runNs),
        appWaitMs: perRequest(app.waitNs - app0.waitNs),
      };
    },
  };
}

/**
 * What limits a request's latency, from its CPU per request: the box (the request's processes
 * waited longer for a core than they ran), else the side that ran longer, then every figure. Waits
 * are summed over the processes (the database's backends wait side by side). `sql`: the same
 * query alone, without HTTP, and its database CPU per call if measured.
 */
export function limitingFactor(cpu: RequestCpu, sql: { p99: number; dbMs?: number }): string {
  const [run, wait] = [cpu.dbMs + cpu.appMs, cpu.dbWaitMs + cpu.appWaitMs];
  const what =
    wait > run
      ? 'the load on the box: its processes waited longer for a core than they ran'
      : cpu.dbMs >= cpu.appMs
        ? 'the database CPU of the count'
        : "the app process's CPU";
  return (
    `${what}; per request: database CPU ${cpu.dbMs.toFixed(1)} ms (+${cpu.dbWaitMs.toFixed(1)} ms waiting for a core), ` +
    `app process CPU ${cpu.appMs.toFixed(1)} ms (+${cpu.appWaitMs.toFixed(1)} ms waiting; the client's fetch included); ` +
    `its SQL alone p99 ${sql.p99.toFixed(1)} ms` +
    (sql.dbMs === undefined ? '' : `, database CPU ${sql.dbMs.toFixed(1)} ms per call`)
  );
}
