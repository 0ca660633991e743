import { Injectable, Logger } from '@nestjs/common';
import { EventStore } from '../../event-store/event-store.js';
import { RetentionRepository, type RetentionRun } from './retention.repository.js';

const DAY_US = 86_400_000_000n;

export interface SweepOptions {
  batchSize?: number;
  /** Clock for tests. */
  now?: Date;
  /** Called after each committed batch (tests use it to simulate a crash mid-sweep). */
  afterBatch?: (deletedSoFar: number) => void | Promise<void>;
}

/**
 * Expires messages by policy. Each batch is one append transaction on one channel: a
 * `message_deleted` redaction event per live message (seq stays gapless, clients are told), the
 * bodies physically deleted, the run's progress counted. A crash loses at most the open batch, and
 * a rerun picks up exactly where the committed ones stopped (expired rows are simply gone).
 */
@Injectable()
export class RetentionService {
  private readonly log = new Logger(RetentionService.name);

  constructor(
    private readonly repo: RetentionRepository,
    private readonly events: EventStore,
  ) {}

  policies(workspace: string) {
    return this.repo.policies(workspace);
  }

  /** keepDays null keeps forever; `channel` '' is the workspace-wide setting. */
  setPolicy(workspace: string, channel: string, keepDays: number | null) {
    return this.repo.setPolicy(workspace, channel, keepDays);
  }

  /** The channel follows its workspace again. */
  clearChannelPolicy(workspace: string, channel: string) {
    return this.repo.clearPolicy(workspace, channel);
  }

  createRun(workspace: string | null) {
    return this.repo.createRun(workspace);
  }

  findRun(id: string) {
    return this.repo.findRun(id);
  }

  deleteRun(id: string) {
    return this.repo.deleteRun(id);
  }

  /** A worker's entry: a recorded run, or a scheduled sweep of every workspace. */
  async runJob(runId: number | undefined): Promise<RetentionRun> {
    return this.sweep(runId ?? (await this.repo.createRun(null)).id);
  }

  /** Runs (or resumes) a recorded sweep to the end. */
  async sweep(runId: number | string, opts: SweepOptions = {}): Promise<RetentionRun> {
    const run = await this.repo.findRun(runId);
    if (!run) throw new Error(`retention run ${runId} does not exist`);
    if (run.status === 'done') return run;
    await this.repo.markRun(runId, 'running');
    const batchSize = opts.batchSize ?? 500;
    const nowUs = BigInt((opts.now ?? new Date()).getTime()) * 1000n;
    let deleted = 0;
    try {
      for (const channel of await this.repo.expiringChannels(run.workspace_id)) {
        const before = nowUs - BigInt(channel.keep_days) * DAY_US;
        for (;;) {
          const n = await this.sweepBatch(run.id, channel.id, before, batchSize);
          if (!n) break;
          deleted += n;
          await opts.afterBatch?.(deleted);
        }
      }
    } catch (err) {
      await this.repo.markRun(runId, 'failed', err instanceof Error ? err.message : String(err));
      throw err;
    }
    await this.repo.markRun(runId, 'done');
    this.log.log(`retention run ${runId}: ${deleted} messages expired`);
    return (await this.repo.findRun(runId))!;
  }

  private sweepBatch(runId: string, channel: string, before: bigint, limit: number): Promise<number> {
    return this.events.transaction(async (tx) => {
      if (!(await tx.lockChannel(channel))) return 0;
      const rows = await this.repo.expired(tx.db, channel, before, limit);
      if (!rows.length) return 0;
      // A message its author already deleted was announced then; only its row remains to go.
      const live = rows.filter((row) => !row.deleted);
      await tx.appendMany(channel, 'message_deleted', null, live.map((row) => ({ message_ts: Number(row.ts), reason: 'retention' })));
      const parents = [...new Set(rows.map((r) => r.thread_ts).filter((t): t is string => t !== null))];
      await this.repo.deleteBodies(tx.db, channel, rows.map((r) => r.seq), parents);
      await this.repo.addProgress(tx.db, runId, rows.length);
      return rows.length;
    });
  }
}
