import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import type { Queryable } from '../../db/database.js';

/** What a run does; the runner for each kind is chosen in JobRunsService.execute. */
export type JobKind = 'retention' | 'ekm-encrypt' | 'ekm-rewrap' | 'ekm-announce' | 'files-thumbnail' | 'files-sweep';
export type JobState = 'queued' | 'running' | 'done' | 'failed';

/** One row of job_runs: an admin-started or scheduled run, and its place in the dispatch outbox. */
export interface JobRun {
  id: string;
  kind: JobKind;
  workspace_id: string | null;
  params: Record<string, unknown>;
  state: JobState;
  /** Items done so far (bigint as a string), counted in each batch's own transaction. */
  progress: string;
  error: string | null;
  created_at: Date;
  dispatched_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type SweepKind = 'retention' | 'files-sweep';

/** No sweep of this kind recorded in the last `everyMs` (SQL parameters of the statement that uses it). */
const SWEEP_DUE = (everyMs: string, kind: string) =>
  `NOT EXISTS (SELECT 1 FROM job_runs WHERE kind = ${kind} AND workspace_id IS NULL
                  AND created_at > now() - make_interval(secs => ${everyMs}::float8 / 1000))`;

/** The outbox: runs not handed to BullMQ yet. */
const UNDISPATCHED = 'SELECT id, kind FROM job_runs WHERE dispatched_at IS NULL';

@Injectable()
export class JobRunsRepository {
  constructor(@Inject(PG_POOL) readonly pool: pg.Pool) {}

  /** Call inside the transaction of the state change the run follows: both commit, or neither. */
  async create(db: Queryable, kind: JobKind, workspace: string | null, params: object = {}): Promise<JobRun> {
    const { rows } = await db.query<JobRun>('INSERT INTO job_runs (kind, workspace_id, params) VALUES ($1, $2, $3) RETURNING *', [
      kind,
      workspace,
      params,
    ]);
    return rows[0];
  }

  /** undefined for an unknown or malformed id. */
  async find(id: string, db: Queryable = this.pool): Promise<JobRun | undefined> {
    if (!UUID.test(id)) return undefined;
    const { rows } = await db.query<JobRun>('SELECT * FROM job_runs WHERE id = $1', [id]);
    return rows[0];
  }

  async latest(workspace: string, kinds: readonly JobKind[], limit = 10): Promise<JobRun[]> {
    const { rows } = await this.pool.query<JobRun>(
      'SELECT * FROM job_runs WHERE workspace_id = $1 AND kind = ANY($2) ORDER BY created_at DESC, id LIMIT $3',
      [workspace, kinds, limit],
    );
    return rows;
  }

  async markRunning(id: string): Promise<void> {
    // least(), not coalesce(): the first start stays; Citus refuses a stable function inside COALESCE.
    await this.pool.query(`UPDATE job_runs SET state = 'running', error = NULL, started_at = least(started_at, now()) WHERE id = $1`, [id]);
  }

  async markFinished(id: string, state: 'done' | 'failed', error: string | null = null): Promise<void> {
    await this.pool.query('UPDATE job_runs SET state = $2, error = $3, finished_at = now() WHERE id = $1', [id, state, error]);
  }

  async addProgress(db: Queryable, id: string, n: number): Promise<void> {
    await db.query('UPDATE job_runs SET progress = progress + $2 WHERE id = $1', [id, n]);
  }

  /** The outbox: runs not handed to BullMQ yet, locked until the dispatcher's transaction ends. */
  async undispatched(db: Queryable, limit: number): Promise<Array<Pick<JobRun, 'id' | 'kind'>>> {
    const { rows } = await db.query<Pick<JobRun, 'id' | 'kind'>>(`${UNDISPATCHED} ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`, [
      limit,
    ]);
    return rows;
  }

  async markDispatched(db: Queryable, ids: string[]): Promise<void> {
    await db.query('UPDATE job_runs SET dispatched_at = now() WHERE id = ANY($1::uuid[])', [ids]);
  }

  /** Records the scheduled sweep of every workspace unless one was recorded less than `everyMs` ago. */
  async scheduleSweep(db: Queryable, everyMs: number, kind: SweepKind = 'retention'): Promise<void> {
    await db.query(
      `INSERT INTO job_runs (kind, workspace_id, params) SELECT $2, NULL, '{"scheduled": true}' WHERE ${SWEEP_DUE('$1', '$2')}`,
      [everyMs, kind],
    );
  }

  /**
   * Whether the dispatcher's transaction (scheduleSweep of each kind, then undispatched) would find
   * anything, read without a transaction or a lock: most of its passes find nothing.
   */
  async hasWork(db: Queryable, everyMs: Record<SweepKind, number>): Promise<boolean> {
    const { rows } = await db.query<{ work: boolean }>(
      `SELECT ${SWEEP_DUE('$1', "'retention'")} OR ${SWEEP_DUE('$2', "'files-sweep'")} OR EXISTS (${UNDISPATCHED}) AS work`,
      [everyMs.retention, everyMs['files-sweep']],
    );
    return rows[0].work;
  }
}
