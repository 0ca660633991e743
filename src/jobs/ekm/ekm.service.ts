import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { BodyCipher } from '../../crypto/body-cipher.js';
import { EkmRepository } from '../../crypto/ekm.repository.js';
import { KEY_PROVIDERS, type KeyProviders } from '../../crypto/key-provider.js';
import { PG_POOL } from '../../db/database.module.js';
import { inTransaction } from '../../db/database.js';
import { type JobKind, type JobRun, JobRunsRepository } from '../runs/job-runs.repository.js';
import {
  EkmAlreadyEnabled,
  EkmKeyIdRequired,
  EkmKeyNotAllowed,
  EkmKeyUnusable,
  EkmNotEnabled,
  EkmProviderNotConfigured,
  RevocationNotFound,
} from './ekm.errors.js';

export const EKM_KINDS: readonly JobKind[] = ['ekm-encrypt', 'ekm-rewrap', 'ekm-announce'];

/** An EKM run as the admin API shows it: `kind` encrypt / rewrap / announce, `done` its progress. */
export function ekmRunView(run: JobRun) {
  return {
    id: run.id,
    workspace_id: run.workspace_id,
    kind: run.kind.replace(/^ekm-/, ''),
    detail: run.params,
    status: run.state,
    done: run.progress,
    error: run.error,
    created_at: run.created_at,
    finished_at: run.finished_at,
  };
}

/**
 * Customer-managed keys for a workspace: enable (seal existing bodies), rotate (new KEK version,
 * re-wrap data keys), revoke and restore access (workspace, channel or ts window). Every state
 * change and the run that follows it up commit in one transaction (the admin surface's audit
 * interceptor records the request; EkmRunner records each run's end on the same trail); the run reaches a worker through the job dispatcher (EkmRunner carries it out), never from here.
 */
@Injectable()
export class EkmService {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly repo: EkmRepository,
    private readonly runs: JobRunsRepository,
    private readonly cipher: BodyCipher,
    @Inject(KEY_PROVIDERS) private readonly providers: KeyProviders,
  ) {}

  async status(workspace: string) {
    const settings = await this.repo.settings(workspace);
    return {
      enabled: !!settings,
      provider: settings?.provider ?? null,
      key_version: settings?.key_version ?? null,
      enabled_at: settings?.enabled_at ?? null,
      revocations: await this.repo.revocations(workspace),
      runs: (await this.runs.latest(workspace, EKM_KINDS)).map(ekmRunView),
    };
  }

  async enable(workspace: string, provider: 'local' | 'aws-kms', keyId: string | undefined) {
    if (!this.providers[provider]) throw new EkmProviderNotConfigured(provider);
    if (provider === 'aws-kms' && !keyId) throw new EkmKeyIdRequired();
    await this.verifyKey(provider, workspace, provider === 'local' ? 'v1' : keyId!);
    const run = await inTransaction(this.pool, async (tx) => {
      if (!(await this.repo.enable(tx, workspace, provider, provider === 'local' ? 'v1' : keyId!))) throw new EkmAlreadyEnabled();
      return this.runs.create(tx, 'ekm-encrypt', workspace);
    });
    return this.started(workspace, run);
  }

  /** A new KEK version; for AWS KMS optionally a new key. Data keys are re-wrapped by a run. */
  async rotate(workspace: string, keyId: string | undefined) {
    if (keyId) {
      const current = await this.repo.settings(workspace);
      if (current?.provider === 'aws-kms') await this.verifyKey('aws-kms', workspace, keyId);
    }
    const run = await inTransaction(this.pool, async (tx) => {
      const current = await this.repo.settings(workspace);
      if (!current) throw new EkmNotEnabled();
      await this.repo.rotate(tx, workspace, (v) => (current.provider === 'local' ? `v${v}` : (keyId ?? current.key_ref)));
      return this.runs.create(tx, 'ekm-rewrap', workspace);
    });
    return this.started(workspace, run);
  }

  async revoke(workspace: string, scope: { channel: string | null; from: bigint | null; to: bigint | null }, actor: string) {
    if (!(await this.repo.settings(workspace))) throw new EkmNotEnabled();
    const { revocation, run } = await inTransaction(this.pool, async (tx) => {
      const revocation = await this.repo.revoke(tx, { workspace, ...scope, actor });
      return { revocation, run: await this.runs.create(tx, 'ekm-announce', workspace, { revocation: revocation.id, change: 'revoked' }) };
    });
    return { revocation, run: this.started(workspace, run) };
  }

  async restore(workspace: string, revocationId: string) {
    const { revocation, run } = await inTransaction(this.pool, async (tx) => {
      const revocation = await this.repo.restore(tx, workspace, revocationId);
      if (!revocation) throw new RevocationNotFound();
      return { revocation, run: await this.runs.create(tx, 'ekm-announce', workspace, { revocation: revocation.id, change: 'restored' }) };
    });
    return { revocation, run: this.started(workspace, run) };
  }

  async findRun(workspace: string, id: string) {
    const run = await this.runs.find(id);
    return run && run.workspace_id === workspace && EKM_KINDS.includes(run.kind) ? ekmRunView(run) : undefined;
  }

  /** A key a workspace may not use, or one that cannot wrap a key, is refused before anything is written. */
  private async verifyKey(provider: 'local' | 'aws-kms', workspace: string, keyRef: string): Promise<void> {
    const verdict = await this.providers[provider]!.verify(workspace, keyRef);
    if (verdict === 'not_allowed') throw new EkmKeyNotAllowed();
    if (verdict === 'unusable') throw new EkmKeyUnusable();
  }

  private started(workspace: string, run: JobRun) {
    this.cipher.forget(workspace);
    return ekmRunView(run);
  }
}
