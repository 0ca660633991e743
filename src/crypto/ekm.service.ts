import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';
import { inTransaction } from '../db/database.js';
import { EventStore } from '../event-store/event-store.js';
import { JobQueues } from '../jobs/job-queues.js';
import { ekmRunJobId, QUEUES } from '../jobs/queues.js';
import { BodyCipher } from './body-cipher.js';
import { EkmRepository, type EkmRun, type Revocation } from './ekm.repository.js';

const BATCH = 200;

/**
 * Customer-managed keys for a workspace: enable (seal existing bodies), rotate (new KEK version,
 * re-wrap data keys), revoke and restore access (workspace, channel or ts window). Every state
 * change and its follow-up run are committed together and audited; the run itself is a job.
 */
@Injectable()
export class EkmService {
  private readonly log = new Logger('Ekm');

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly repo: EkmRepository,
    private readonly cipher: BodyCipher,
    private readonly events: EventStore,
    private readonly queues: JobQueues,
  ) {}

  async status(workspace: string) {
    const settings = await this.repo.settings(workspace);
    return {
      enabled: !!settings,
      provider: settings?.provider ?? null,
      key_version: settings?.key_version ?? null,
      enabled_at: settings?.enabled_at ?? null,
      revocations: await this.repo.revocations(workspace),
      runs: await this.repo.latestRuns(workspace),
    };
  }

  async enable(workspace: string, provider: 'local' | 'aws-kms', keyId: string | undefined, actor: string): Promise<EkmRun> {
    this.cipher.provider(provider); // throws when this node has no such provider configured
    if (provider === 'aws-kms' && !keyId) throw new BadRequestException('key_id (the KMS key id or ARN) is required for aws-kms');
    const run = await inTransaction(this.pool, async (tx) => {
      if (!(await this.repo.enable(tx, workspace, provider, provider === 'local' ? 'v1' : keyId!))) throw new ConflictException('EKM is already enabled');
      await this.repo.audit(tx, workspace, 'enable', actor, { provider });
      return this.repo.createRun(tx, workspace, 'encrypt');
    });
    return this.started(workspace, run);
  }

  /** A new KEK version; for AWS KMS optionally a new key. Data keys are re-wrapped by a job. */
  async rotate(workspace: string, keyId: string | undefined, actor: string): Promise<EkmRun> {
    const run = await inTransaction(this.pool, async (tx) => {
      const current = await this.repo.settings(workspace);
      if (!current) throw new NotFoundException('EKM is not enabled');
      const next = await this.repo.rotate(tx, workspace, (v) => (current.provider === 'local' ? `v${v}` : (keyId ?? current.key_ref)));
      await this.repo.audit(tx, workspace, 'rotate', actor, { key_version: next.key_version });
      return this.repo.createRun(tx, workspace, 'rewrap');
    });
    return this.started(workspace, run);
  }

  async revoke(workspace: string, scope: { channel: string | null; from: bigint | null; to: bigint | null }, actor: string) {
    if (!(await this.repo.settings(workspace))) throw new NotFoundException('EKM is not enabled');
    const { revocation, run } = await inTransaction(this.pool, async (tx) => {
      const revocation = await this.repo.revoke(tx, { workspace, ...scope, actor });
      await this.repo.audit(tx, workspace, 'revoke', actor, { revocation: revocation.id, channel: scope.channel, from_ts: revocation.from_ts, to_ts: revocation.to_ts });
      return { revocation, run: await this.repo.createRun(tx, workspace, 'announce', { revocation: revocation.id, change: 'revoked' }) };
    });
    return { revocation, run: await this.started(workspace, run) };
  }

  async restore(workspace: string, revocationId: string, actor: string) {
    const { revocation, run } = await inTransaction(this.pool, async (tx) => {
      const revocation = await this.repo.restore(tx, workspace, revocationId);
      if (!revocation) throw new NotFoundException('no active revocation with this id');
      await this.repo.audit(tx, workspace, 'restore', actor, { revocation: revocation.id });
      return { revocation, run: await this.repo.createRun(tx, workspace, 'announce', { revocation: revocation.id, change: 'restored' }) };
    });
    return { revocation, run: await this.started(workspace, run) };
  }

  findRun(id: string) {
    return this.repo.findRun(id);
  }

  auditLog(workspace: string, afterId: string, limit: number) {
    return this.repo.auditLog(workspace, afterId, limit);
  }

  /** The worker's entry point; reruns after a crash resume where committed batches stopped. */
  async run(runId: string): Promise<EkmRun> {
    const run = await this.repo.findRun(runId);
    if (!run) throw new Error(`EKM run ${runId} does not exist`);
    if (run.status === 'done') return run;
    await this.repo.markRun(runId, 'running');
    try {
      if (run.kind === 'encrypt') await this.sealExisting(run);
      else if (run.kind === 'rewrap') await this.rewrap(run);
      else await this.announce(run);
    } catch (err) {
      await this.repo.markRun(runId, 'failed', err instanceof Error ? err.message : String(err));
      throw err;
    }
    await this.repo.markRun(runId, 'done');
    const done = (await this.repo.findRun(runId))!;
    await this.repo.audit(this.pool, run.workspace_id, `${run.kind}_done`, 'system', { run: run.id, count: Number(done.done) });
    return done;
  }

  /** Runs whose enqueue failed (Redis was down) are queued again; job ids make repeats no-ops. */
  async requeuePending(): Promise<void> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM ekm_runs WHERE status IN ('queued', 'running')`);
    for (const { id } of rows) await this.enqueue(id).catch(() => {});
  }

  private async started(workspace: string, run: EkmRun): Promise<EkmRun> {
    this.cipher.forget(workspace);
    await this.enqueue(run.id).catch((err: Error) => this.log.warn(`EKM run ${run.id} will be queued when Redis is back: ${err.message}`));
    return run;
  }

  private enqueue(runId: string) {
    return this.queues.get(QUEUES.ekm).add('run', { runId }, { jobId: ekmRunJobId(runId) });
  }

  /** Seals every plaintext body of the workspace, a batch per transaction and one UPDATE per batch. */
  private async sealExisting(run: EkmRun): Promise<void> {
    for (;;) {
      const n = await inTransaction(this.pool, async (tx) => {
        const rows = await this.repo.plaintextBodies(tx, run.workspace_id, BATCH);
        if (!rows.length) return 0;
        await this.cipher.settings(run.workspace_id, true); // once per batch; rows below use the fresh view
        const sealed = [];
        for (const row of rows) {
          const body = await this.cipher.seal(run.workspace_id, row.channel_id, row.text, { seq: row.seq, user: row.user_id });
          if (!body.bodyEnc) throw new Error('EKM was turned off while sealing');
          sealed.push({ channel: row.channel_id, seq: row.seq, bodyEnc: body.bodyEnc, dataKeyId: body.dataKeyId! });
        }
        await this.repo.storeSealed(tx, sealed);
        await this.repo.addProgress(tx, run.id, rows.length);
        return rows.length;
      });
      if (!n) return;
    }
  }

  /** Re-wraps data keys under the current KEK version; bodies are untouched. */
  private async rewrap(run: EkmRun): Promise<void> {
    const settings = await this.repo.settings(run.workspace_id);
    if (!settings) return;
    const provider = this.cipher.provider(settings.provider);
    for (;;) {
      const stale = await this.repo.staleDataKeys(run.workspace_id, settings.key_version, BATCH);
      if (!stale.length) return;
      for (const key of stale) {
        const plain = await provider.unwrap(run.workspace_id, key.key_ref, key.wrapped);
        await this.repo.rewrap(key.id, settings.key_version, settings.key_ref, await provider.wrap(run.workspace_id, settings.key_ref, plain));
      }
      await this.repo.addProgress(this.pool, run.id, stale.length);
      this.cipher.forget(run.workspace_id);
    }
  }

  /** Tells live clients: a message_changed event per message the revocation covers (or uncovers). */
  private async announce(run: EkmRun): Promise<void> {
    const revocation = (await this.repo.revocations(run.workspace_id)).find((r) => r.id === String(run.detail.revocation));
    if (!revocation) return;
    let after = { channel: '', seq: '0' };
    for (;;) {
      const rows = await this.repo.coveredMessages(run.workspace_id, revocation as Revocation, after, BATCH);
      if (!rows.length) return;
      for (const channel of new Set(rows.map((r) => r.channel_id))) {
        await this.events.transaction(async (tx) => {
          if (!(await tx.lockChannel(channel, run.workspace_id))) return;
          const mine = rows.filter((r) => r.channel_id === channel);
          await tx.appendMany(channel, 'message_changed', null, mine.map((m) => ({ message_ts: Number(m.ts), ekm: run.detail.change })));
          await this.repo.addProgress(tx.db, run.id, mine.length);
        });
      }
      const last = rows[rows.length - 1];
      after = { channel: last.channel_id, seq: last.seq };
    }
  }
}
