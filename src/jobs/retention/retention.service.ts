import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditRepository } from '../../audit/audit.repository.js';
import { CONFIG, type Config } from '../../config/config.js';
import { EventStore } from '../../event-store/event-store.js';
import { FileBytes } from '../files/file-bytes.js';
import { type FileRow, FilesRepository } from '../files/files.repository.js';
import { type JobRun, JobRunsRepository } from '../runs/job-runs.repository.js';
import { RetentionRepository } from './retention.repository.js';

const DAY_US = 86_400_000_000n;

export interface SweepOptions {
  batchSize?: number;
  /** Clock for tests. */
  now?: Date;
  /** Called after each committed batch (tests use it to simulate a crash mid-sweep). */
  afterBatch?: (deletedSoFar: number) => void | Promise<void>;
}

/** A retention run as the admin API shows it (its progress is the number of bodies deleted). */
export function retentionRunView(run: JobRun) {
  return {
    id: run.id,
    workspace_id: run.workspace_id,
    status: run.state,
    deleted: run.progress,
    error: run.error,
    created_at: run.created_at,
    started_at: run.started_at,
    finished_at: run.finished_at,
  };
}

/**
 * Expires messages by policy. Each batch is one append transaction on one channel: a
 * `message_deleted` redaction event per live message (seq stays gapless, clients are told), the
 * bodies physically deleted, the run's progress counted. A crash loses at most the open batch, and
 * a rerun picks up exactly where the committed ones stopped (expired rows are simply gone).
 * Each run also deletes audit trail rows older than AUDIT_KEEP_DAYS (the trail's own retention).
 */
@Injectable()
export class RetentionService {
  private readonly log = new Logger(RetentionService.name);

  constructor(
    private readonly repo: RetentionRepository,
    private readonly runs: JobRunsRepository,
    private readonly events: EventStore,
    private readonly audit: AuditRepository,
    @Inject(CONFIG) private readonly config: Config,
    private readonly files: FilesRepository,
    private readonly fileBytes: FileBytes,
  ) {}

  policies(workspace: string) {
    return this.repo.policies(workspace);
  }

  /** keepDays null keeps forever; `channel` null is the workspace-wide setting. */
  setPolicy(workspace: string, channel: string | null, keepDays: number | null) {
    return this.repo.setPolicy(workspace, channel, keepDays);
  }

  /** The channel follows its workspace again. */
  clearChannelPolicy(workspace: string, channel: string) {
    return this.repo.clearPolicy(workspace, channel);
  }

  /** Records a sweep of the workspace; the job dispatcher hands it to a worker. */
  createRun(workspace: string): Promise<JobRun> {
    return this.runs.create(this.runs.pool, 'retention', workspace);
  }

  async findRun(id: string): Promise<JobRun | undefined> {
    const run = await this.runs.find(id);
    return run?.kind === 'retention' ? run : undefined;
  }

  /** Carries out (or resumes) a recorded sweep; the run's lifecycle is JobRunsService's. */
  async sweep(run: JobRun, opts: SweepOptions = {}): Promise<void> {
    const batchSize = opts.batchSize ?? 500;
    const nowUs = BigInt((opts.now ?? new Date()).getTime()) * 1000n;
    let deleted = 0;
    for (const channel of await this.repo.expiringChannels(run.workspace_id)) {
      const before = nowUs - BigInt(channel.keep_days) * DAY_US;
      for (;;) {
        const n = await this.sweepBatch(run.id, channel.id, before, batchSize);
        if (!n) break;
        deleted += n;
        await opts.afterBatch?.(deleted);
      }
    }
    const audit = await this.audit.sweep(run.workspace_id, this.config.AUDIT_KEEP_DAYS, opts.now);
    this.log.log(`retention run ${run.id}: ${deleted} messages expired, ${audit} audit rows`);
  }

  /**
   * Files the expired messages shared are marked deleted in the batch's transaction and their bytes
   * removed from storage right after it commits (the files sweep removes any a crash left behind).
   */
  private async sweepBatch(runId: string, channel: string, before: bigint, limit: number): Promise<number> {
    const expiredFiles: FileRow[] = [];
    const n = await this.sweepBodies(runId, channel, before, limit, expiredFiles);
    for (const file of expiredFiles) {
      await this.fileBytes.remove(file);
      await this.files.remove(file.id, 'deleted');
    }
    return n;
  }

  private sweepBodies(runId: string, channel: string, before: bigint, limit: number, expiredFiles: FileRow[]): Promise<number> {
    return this.events.transaction(async (tx) => {
      if (!(await tx.lockChannel(channel))) return 0;
      const rows = await this.repo.expired(tx.db, channel, before, limit);
      if (!rows.length) return 0;
      // A message its author already deleted was announced then; only its row remains to go.
      const live = rows.filter((row) => !row.deleted);
      await tx.appendMany(
        channel,
        'message_deleted',
        null,
        live.map((row) => ({ message_ts: Number(row.ts), reason: 'retention' })),
      );
      const parents = [...new Set(rows.map((r) => r.thread_ts).filter((t): t is string => t !== null))];
      await this.repo.deleteBodies(
        tx.db,
        channel,
        rows.map((r) => r.seq),
        parents,
      );
      expiredFiles.push(
        ...(await this.files.markDeleted(
          tx.db,
          await this.files.sharedBy(
            tx.db,
            channel,
            rows.map((r) => r.ts),
          ),
        )),
      );
      await this.runs.addProgress(tx.db, runId, rows.length);
      return rows.length;
    });
  }
}
