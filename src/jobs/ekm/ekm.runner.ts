import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { AuditRepository } from '../../audit/audit.repository.js';
import { BodyCipher } from '../../crypto/body-cipher.js';
import { EkmRepository, type Revocation } from '../../crypto/ekm.repository.js';
import { PG_POOL } from '../../db/database.module.js';
import { inTransaction } from '../../db/database.js';
import { packBody } from '../../domain/message-content.js';
import { EventStore } from '../../event-store/event-store.js';
import { FilesEkm } from '../files/files-ekm.js';
import { SearchRekey } from '../../projections/search-index/search-rekey.js';
import { type JobRun, JobRunsRepository } from '../runs/job-runs.repository.js';
import { EkmRunsRepository } from './ekm-runs.repository.js';

const BATCH = 200;

/**
 * Carries out EKM runs (their lifecycle is JobRunsService's): seal every existing body after
 * enable, re-wrap data keys after rotate, tell live clients about a revocation or a restore.
 * Each batch counts its progress in its own transaction, so a rerun resumes where one stopped.
 */
@Injectable()
export class EkmRunner {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly ekm: EkmRepository,
    private readonly repo: EkmRunsRepository,
    private readonly runs: JobRunsRepository,
    private readonly cipher: BodyCipher,
    private readonly events: EventStore,
    private readonly audit: AuditRepository,
    private readonly files: FilesEkm,
    private readonly searchRekey: SearchRekey,
  ) {}

  async run(run: JobRun): Promise<void> {
    const workspace = run.workspace_id!;
    if (run.kind === 'ekm-encrypt') await this.sealExisting(run, workspace);
    else if (run.kind === 'ekm-rewrap') await this.rewrap(run, workspace);
    else await this.announce(run, workspace);
    // The search index follows the key: blind tokens after enable, the new key version after rotate.
    // (Not counted in the run's progress, which counts bodies and data keys.)
    if (run.kind !== 'ekm-announce') await this.searchRekey.run(workspace);
    const progress = (await this.runs.find(run.id))!.progress;
    await this.audit.record({
      actor: 'system',
      action: `ekm.${run.kind.replace(/^ekm-/, '')}_done`,
      target: { kind: 'run', id: run.id },
      workspace,
      outcome: 'ok',
      details: { count: Number(progress) },
    });
  }

  /** Seals every plaintext body of the workspace, a batch per transaction and one UPDATE per batch. */
  private async sealExisting(run: JobRun, workspace: string): Promise<void> {
    for (;;) {
      const n = await inTransaction(this.pool, async (tx) => {
        const rows = await this.repo.plaintextBodies(tx, workspace, BATCH);
        if (!rows.length) return 0;
        await this.cipher.settings(workspace, true); // once per batch; rows below use the fresh view
        const sealed = [];
        for (const row of rows) {
          const body = await this.cipher.seal(workspace, row.channel_id, packBody(row.text, row.rich ?? undefined), {
            seq: row.seq,
            user: row.user_id,
          });
          if (!body.bodyEnc) throw new Error('EKM was turned off while sealing');
          sealed.push({ channel: row.channel_id, seq: row.seq, bodyEnc: body.bodyEnc, dataKeyId: body.dataKeyId! });
        }
        await this.repo.storeSealed(tx, sealed);
        await this.runs.addProgress(tx, run.id, rows.length);
        return rows.length;
      });
      if (!n) break;
    }
    // Files too: bytes, thumbnails, names (issue 11).
    await this.files.sealExisting(workspace, (n) => this.runs.addProgress(this.pool, run.id, n));
  }

  /** Re-wraps data keys under the current KEK version; bodies are untouched. */
  private async rewrap(run: JobRun, workspace: string): Promise<void> {
    const settings = await this.ekm.settings(workspace);
    if (!settings) return;
    const provider = this.cipher.provider(settings.provider);
    for (;;) {
      const stale = await this.repo.staleDataKeys(workspace, settings.key_version, BATCH);
      if (!stale.length) break;
      for (const key of stale) {
        const plain = await provider.unwrap(workspace, key.key_ref, key.wrapped);
        await this.repo.rewrap(key.id, settings.key_version, settings.key_ref, await provider.wrap(workspace, settings.key_ref, plain));
      }
      await this.runs.addProgress(this.pool, run.id, stale.length);
      this.cipher.forget(workspace);
    }
    // Each file has a data key of its own, wrapped by the same KEK.
    await this.runs.addProgress(this.pool, run.id, await this.files.rewrap(workspace));
  }

  /** Tells live clients: a message_changed event per message the revocation covers (or uncovers). */
  private async announce(run: JobRun, workspace: string): Promise<void> {
    const revocation = (await this.ekm.revocations(workspace)).find((r) => r.id === String(run.params.revocation));
    if (!revocation) return;
    let after = { channel: '', seq: '0' };
    for (;;) {
      const rows = await this.repo.coveredMessages(workspace, revocation as Revocation, after, BATCH);
      if (!rows.length) return;
      for (const channel of new Set(rows.map((r) => r.channel_id))) {
        await this.events.transaction(async (tx) => {
          if (!(await tx.lockChannel(channel, workspace))) return;
          const mine = rows.filter((r) => r.channel_id === channel);
          await tx.appendMany(
            channel,
            'message_changed',
            null,
            mine.map((m) => ({ message_ts: Number(m.ts), ekm: run.params.change })),
          );
          await this.runs.addProgress(tx.db, run.id, mine.length);
        });
      }
      const last = rows[rows.length - 1];
      after = { channel: last.channel_id, seq: last.seq };
    }
  }
}
