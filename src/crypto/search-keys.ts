import { createHmac, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';
import { BodyCipher } from './body-cipher.js';

/** One version of a workspace's blind-index key, unwrapped: turns a normalized word into its token. */
export interface BlindKey {
  readonly version: number;
  token(word: string): string;
}

/** The key provider would not unwrap a workspace's search key (revoked or disabled in the KMS). */
export class SearchKeyUnavailable extends Error {
  constructor(readonly workspace: string) {
    super(`the search key of ${workspace} cannot be unwrapped`);
  }
}

interface SearchKeyRow {
  key_version: number;
  key_ref: string;
  wrapped: Buffer;
}

/** Unwrapped keys are asked of the provider again after this, as data keys are (BodyCipher). */
const KEY_TTL_MS = 5 * 60_000;
/** 64 bits of the HMAC: collisions among a workspace's words stay negligible, the index stays small. */
const TOKEN_HEX = 16;

/**
 * The keys of EKM workspaces' blind search index: one random 32-byte key per workspace and KEK
 * version, wrapped by the workspace's key provider (as data keys are) and stored only wrapped. A
 * token is HMAC-SHA256(key, word), so equal words give equal tokens inside a workspace and nothing
 * else can be read from them without the key (docs/search.md).
 */
@Injectable()
export class SearchKeys {
  private readonly keys = new LRUCache<string, BlindKey>({ max: 10_000, ttl: KEY_TTL_MS });

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly cipher: BodyCipher,
  ) {}

  /** The key new index rows are made with; undefined outside EKM (plain words). `fresh` skips the settings cache. */
  async current(workspace: string, fresh = false): Promise<BlindKey | undefined> {
    const settings = await this.cipher.settings(workspace, fresh);
    if (!settings) return undefined;
    const slot = `${workspace}:${settings.key_version}`;
    const hit = this.keys.get(slot);
    if (hit) return hit;
    let row = await this.row(workspace, settings.key_version);
    if (!row) {
      const wrapped = await this.cipher.provider(settings.provider).wrap(workspace, settings.key_ref, randomBytes(32));
      await this.pool.query(
        'INSERT INTO search_keys (workspace_id, key_version, key_ref, wrapped) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [workspace, settings.key_version, settings.key_ref, wrapped],
      );
      row = (await this.row(workspace, settings.key_version))!; // ours, or another node's made first
    }
    const key = await this.unwrap(workspace, settings.provider, row);
    this.keys.set(slot, key);
    return key;
  }

  /**
   * Every key version that may still have index rows (re-keying after a rotation runs by job), for
   * hashing a query. Throws when the provider refuses to unwrap one (a key disabled in the KMS).
   */
  async all(workspace: string): Promise<BlindKey[]> {
    const settings = await this.cipher.settings(workspace);
    if (!settings) return [];
    const current = await this.current(workspace);
    const { rows } = await this.pool.query<SearchKeyRow>(
      'SELECT key_version, key_ref, wrapped FROM search_keys WHERE workspace_id = $1 AND key_version <> $2',
      [workspace, current!.version],
    );
    const older = [];
    for (const row of rows) {
      const slot = `${workspace}:${row.key_version}`;
      const key = this.keys.get(slot) ?? (await this.unwrap(workspace, settings.provider, row));
      this.keys.set(slot, key);
      older.push(key);
    }
    return [current!, ...older];
  }

  /** Drops the keys older than the current version once no index row uses them (after re-keying). */
  async retire(workspace: string, current: number): Promise<void> {
    // Two statements: Citus refuses a DELETE of a reference table (search_keys) that reads a
    // distributed one (search_messages). A row written under an old version between the two is not
    // possible: the projector writes under the current version only.
    const { rows } = await this.pool.query<{ v: number }>(
      'SELECT DISTINCT key_version AS v FROM search_messages WHERE workspace_id = $1 AND key_version < $2',
      [workspace, current],
    );
    await this.pool.query('DELETE FROM search_keys WHERE workspace_id = $1 AND key_version < $2 AND NOT (key_version = ANY($3::int[]))', [
      workspace,
      current,
      rows.map((r) => r.v),
    ]);
    for (const slot of [...this.keys.keys()]) if (slot.startsWith(`${workspace}:`)) this.keys.delete(slot);
  }

  private async row(workspace: string, version: number): Promise<SearchKeyRow | undefined> {
    const { rows } = await this.pool.query<SearchKeyRow>(
      'SELECT key_version, key_ref, wrapped FROM search_keys WHERE workspace_id = $1 AND key_version = $2',
      [workspace, version],
    );
    return rows[0];
  }

  private async unwrap(workspace: string, provider: 'local' | 'aws-kms', row: SearchKeyRow): Promise<BlindKey> {
    let secret: Buffer;
    try {
      secret = await this.cipher.provider(provider).unwrap(workspace, row.key_ref, row.wrapped);
    } catch {
      throw new SearchKeyUnavailable(workspace);
    }
    return {
      version: row.key_version,
      token: (word) => createHmac('sha256', secret).update(word).digest('hex').slice(0, TOKEN_HEX),
    };
  }
}
