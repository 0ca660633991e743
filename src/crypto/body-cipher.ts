import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { MessageRow } from '../domain/message.js';
import { unpackBody } from '../domain/message-content.js';
import { SlackError } from '../domain/slack-error.js';
import { CONFIG, type Config } from '../config/config.js';
import { open, newDataKey, seal } from './envelope.js';
import { type DataKeyRow, EkmRepository, type EkmWorkspace, type Revocation } from './ekm.repository.js';
import { KEY_PROVIDERS, KeyAccessDenied, type KeyProvider, type KeyProviders, KeyServiceUnavailable } from './key-provider.js';

export interface SealedBody {
  text: string | null;
  bodyEnc: Buffer | null;
  dataKeyId: string | null;
}

/** The message a body belongs to: its box opens only there (with its channel and data key). */
export interface BodyOwner {
  seq: string | number;
  user: string;
}

/** A channel's key of the day, ready: sealing needs no I/O (used under the channel lock, once seq is known). */
export interface BodySealer {
  dataKeyId: string;
  seal(text: string, owner: BodyOwner): Buffer;
}

/**
 * The database refused a plaintext body in an EKM workspace (migrations/functions/05_...): rethrown
 * as the Slack error `ekm_required`, which tells the writer to seal with fresh settings and retry.
 */
export function rethrowEkmRequired(err: unknown): never {
  if ((err as { code?: string }).code === 'EK001') throw new SlackError('ekm_required');
  throw err;
}

/**
 * A write under EKM's rule, with the caller's cached view of the workspace first (`fresh` false) and,
 * when the database answers `ekm_required` (the workspace turned EKM on since), once more sealed with
 * fresh settings. The one place for that retry: posts, edits, uploads and completions use it.
 */
export async function withEkmRetry<T>(write: (fresh: boolean) => Promise<T>): Promise<T> {
  try {
    return await write(false);
  } catch (err) {
    if (!(err instanceof SlackError && err.code === 'ekm_required')) throw err;
    return write(true);
  }
}

/** A data key by id: unwrapped, or not (`key` undefined: gone, or refused by the provider). */
type DataKey = { row: DataKeyRow; key: Buffer } | { row?: DataKeyRow; key: undefined };

const SETTINGS_TTL_MS = 2000;
const MAX_CACHED_WORKSPACES = 10_000;
const MAX_CACHED_KEYS = 10_000;
/** Unwrapped keys are asked of the provider again after this, so a key disabled in KMS stops working here too. */
const KEY_TTL_MS = 5 * 60_000;
/** While the log's consumers wait for a failing key service, it is asked again at most this often. */
const HOLD_RETRY_MS = 1000;

/**
 * Seals message bodies of EKM workspaces before they are stored, and opens them on every read.
 * Unwrapped data keys are cached in memory only; revocations are read on every open, so revoking
 * takes effect at once on every node.
 */
@Injectable()
export class BodyCipher {
  private readonly log = new Logger('BodyCipher');
  /** Boxed: a workspace without EKM is cached too (as `value: undefined`). */
  private readonly settingsCache = new LRUCache<string, { value: EkmWorkspace | undefined }>({
    max: MAX_CACHED_WORKSPACES,
    ttl: SETTINGS_TTL_MS,
  });
  /** Reads of the settings under way, shared by the callers that missed the cache meanwhile. */
  private readonly settingsLoads = new Map<string, Promise<EkmWorkspace | undefined>>();
  private readonly keys = new LRUCache<string, { row: DataKeyRow; key: Buffer }>({ max: MAX_CACHED_KEYS, ttl: KEY_TTL_MS });
  /** Today's data key id per workspace:channel:day, so sealing a body costs no query. */
  private readonly dayKeys = new LRUCache<string, string>({ max: MAX_CACHED_KEYS });
  /** Data keys whose key service failed a 'hold' read: since when, and when to ask it again. */
  private readonly failing = new LRUCache<string, { since: number; retryAt: number; error: KeyServiceUnavailable; denied: boolean }>({
    max: MAX_CACHED_KEYS,
  });
  private readonly holdMs: number;

  constructor(
    private readonly repo: EkmRepository,
    @Inject(KEY_PROVIDERS) private readonly providers: KeyProviders,
    @Inject(CONFIG) config: Config,
  ) {
    this.holdMs = config.EKM_HOLD_SECONDS * 1000;
  }

  /**
   * The workspace's EKM settings, cached briefly; `fresh` skips the cache (post_message said
   * ekm_required). Callers that miss the cache together share one read: when the entry expires
   * under load, every waiting request would otherwise send its own.
   */
  settings(workspace: string, fresh = false): Promise<EkmWorkspace | undefined> {
    if (!fresh) {
      const hit = this.settingsCache.get(workspace);
      if (hit) return Promise.resolve(hit.value);
      const loading = this.settingsLoads.get(workspace);
      if (loading) return loading;
    }
    const load = this.repo.settings(workspace).then((value) => {
      this.settingsCache.set(workspace, { value });
      return value;
    });
    this.settingsLoads.set(workspace, load);
    const forget = () => {
      if (this.settingsLoads.get(workspace) === load) this.settingsLoads.delete(workspace);
    };
    load.then(forget, forget);
    return load;
  }

  /** Plaintext stays plaintext outside EKM workspaces; inside, only the sealed box is stored, bound to its message. */
  async seal(workspace: string, channel: string, text: string, owner: BodyOwner, fresh = false): Promise<SealedBody> {
    const sealer = await this.sealer(workspace, channel, fresh);
    if (!sealer) return { text, bodyEnc: null, dataKeyId: null };
    return { text: null, bodyEnc: sealer.seal(text, owner), dataKeyId: sealer.dataKeyId };
  }

  /** For a body whose message is not numbered yet; undefined outside EKM workspaces. */
  async sealer(workspace: string, channel: string, fresh = false): Promise<BodySealer | undefined> {
    const settings = await this.settings(workspace, fresh);
    if (!settings) return undefined;
    const { row, key } = await this.dayKey(settings, channel);
    return { dataKeyId: row.id, seal: (text, owner) => seal(key, text, aad(channel, row.id, owner)) };
  }

  /**
   * Fills in `text` of sealed rows, or marks them `ekm_denied` when access is revoked or the key is
   * refused or gone. A key service that fails (unreachable, throttled) has not refused anything:
   * `onServiceFailure` 'throw' (readers that answer one caller) throws KeyServiceUnavailable
   * (`ekm_unavailable`, 503, to be retried); 'deny' (live delivery, which the client reads again)
   * marks those rows `ekm_denied` too; 'hold' (the log's consumers, which read an event once) throws
   * until the key has failed for EKM_HOLD_SECONDS, asking the service again at most once a second,
   * then denies: one customer's failing KMS stops every workspace's consumers for that long at most.
   */
  async openRows(rows: Array<MessageRow | null | undefined>, onServiceFailure: 'throw' | 'deny' | 'hold' = 'throw'): Promise<void> {
    const sealed = rows.filter((r): r is MessageRow => !!r?.body_enc && !!r.data_key_id);
    if (!sealed.length) return;
    const keyRows = new Map<string, DataKey>();
    for (const id of new Set(sealed.map((r) => r.data_key_id!))) {
      keyRows.set(
        id,
        onServiceFailure === 'hold'
          ? await this.keyOrHold(id)
          : await this.keyById(id).catch((err: unknown) => {
              if (onServiceFailure === 'throw' || !(err instanceof KeyServiceUnavailable)) throw err;
              return { key: undefined }; // no key: its rows read as denied
            }),
      );
    }
    const workspaces = [...new Set([...keyRows.values()].map((k) => k.row?.workspace_id).filter(Boolean))] as string[];
    const revocations = workspaces.length ? await this.repo.activeRevocations(workspaces) : [];
    for (const row of sealed) {
      const entry = keyRows.get(row.data_key_id!)!;
      const ts = BigInt(row.ts);
      if (!entry.key || revocations.some((r) => r.workspace_id === entry.row.workspace_id && covers(r, row.channel_id, ts))) {
        row.text = null;
        row.ekm_denied = true;
      } else {
        try {
          // A message with blocks or attachments seals them with its text (packBody).
          const body = unpackBody(openBody(entry.key, toBuffer(row.body_enc!), row).toString());
          row.text = body.text;
          row.rich = body.rich ?? null;
        } catch {
          row.text = null;
          row.ekm_denied = true;
        }
      }
      delete row.body_enc;
      delete row.data_key_id;
    }
  }

  /**
   * keyById for a 'hold' read (openRows): throws KeyServiceUnavailable while the key's service has
   * failed for less than the hold, then answers no key (denied). A failing service is asked again
   * at most once a second, whatever the number of passes; a success forgets the failure.
   */
  private async keyOrHold(id: string): Promise<DataKey> {
    const now = Date.now();
    let state = this.failing.get(id);
    if (!state || now >= state.retryAt) {
      try {
        const key = await this.keyById(id);
        this.failing.delete(id);
        return key;
      } catch (err) {
        if (!(err instanceof KeyServiceUnavailable)) throw err;
        // A failure long after the last one asked (the key unread meanwhile) starts a hold of its own.
        if (state && now - state.retryAt > this.holdMs) state = undefined;
        if (!state) this.log.warn(`data key ${id}: key service failing; the log's consumers wait for it up to ${this.holdMs / 1000} s`);
        state = { since: state?.since ?? now, retryAt: now + HOLD_RETRY_MS, error: err, denied: state?.denied ?? false };
        this.failing.set(id, state);
      }
    }
    if (now - state.since < this.holdMs) throw state.error;
    if (!state.denied) {
      state.denied = true;
      this.log.error(
        `data key ${id}: key service failing for ${Math.round((now - state.since) / 1000)} s; the log's consumers read its bodies as denied`,
      );
    }
    return { key: undefined };
  }

  /** Forgets cached settings and keys of a workspace (after enable, rotate). */
  forget(workspace: string): void {
    this.settingsCache.delete(workspace);
    for (const [id, entry] of [...this.keys.entries()]) if (entry.row.workspace_id === workspace) this.keys.delete(id);
    for (const slot of [...this.dayKeys.keys()]) if (slot.startsWith(`${workspace}:`)) this.dayKeys.delete(slot);
  }

  provider(name: EkmWorkspace['provider']): KeyProvider {
    const provider = this.providers[name];
    if (!provider) throw new Error(`EKM provider ${name} is not configured on this node`);
    return provider;
  }

  private async dayKey(settings: EkmWorkspace, channel: string): Promise<{ row: DataKeyRow; key: Buffer }> {
    const day = new Date().toISOString().slice(0, 10);
    const slot = `${settings.workspace_id}:${channel}:${day}`;
    const known = this.dayKeys.get(slot);
    const hit = known ? this.fresh(known) : undefined;
    if (hit) return hit;
    const existing = await this.repo.findDataKey(settings.workspace_id, channel, day);
    if (existing) {
      const cached = await this.keyById(existing.id);
      this.dayKeys.set(slot, existing.id);
      if (cached.key) return { row: cached.row, key: cached.key };
      throw new SlackError('ekm_access_denied'); // the provider refuses today's key: nothing can be sealed
    }
    const key = newDataKey();
    const wrapped = await this.provider(settings.provider)
      .wrap(settings.workspace_id, settings.key_ref, key)
      .catch((err: unknown) => {
        throw err instanceof KeyAccessDenied ? new SlackError('ekm_access_denied') : new KeyServiceUnavailable(err);
      });
    const inserted = await this.repo.insertDataKey({
      workspace_id: settings.workspace_id,
      channel_id: channel,
      window_start: day,
      key_version: settings.key_version,
      key_ref: settings.key_ref,
      wrapped,
    });
    if (!inserted) return this.dayKey(settings, channel); // another writer made today's key first
    this.remember(inserted, key);
    this.dayKeys.set(slot, inserted.id);
    return { row: inserted, key };
  }

  /** `key` undefined: the key is gone or the provider refuses it. Throws KeyServiceUnavailable when the provider fails. */
  private async keyById(id: string): Promise<DataKey> {
    const hit = this.fresh(id);
    if (hit) return hit;
    const row = await this.repo.dataKey(id);
    if (!row) return { key: undefined };
    const settings = await this.settings(row.workspace_id);
    try {
      const key = await this.provider(settings?.provider ?? 'local').unwrap(row.workspace_id, row.key_ref, row.wrapped);
      this.remember(row, key);
      return { row, key };
    } catch (err) {
      this.log.warn(`data key ${id} of ${row.workspace_id} could not be unwrapped: ${(err as Error).name}`);
      // A key the provider will not unwrap (revoked in KMS, wrong master key) denies access; any other
      // failure is the service's, and is not remembered: the next read asks again.
      if (err instanceof KeyAccessDenied) return { row, key: undefined };
      throw new KeyServiceUnavailable(err);
    }
  }

  private fresh(id: string): { row: DataKeyRow; key: Buffer } | undefined {
    return this.keys.get(id);
  }

  private remember(row: DataKeyRow, key: Buffer): void {
    this.keys.set(row.id, { row, key });
  }
}

/**
 * The additional data of a body's box: its channel, data key and message (seq and author), so a box
 * copied onto another row fails to open. Bodies sealed before messages were bound (`legacyAad`:
 * channel and key only) still open; they are bound once re-sealed.
 */
const aad = (channel: string, dataKeyId: string, owner: BodyOwner) => `body:${channel}:${dataKeyId}:${owner.seq}:${owner.user}`;
const legacyAad = (channel: string, dataKeyId: string) => `body:${channel}:${dataKeyId}`;

function openBody(key: Buffer, box: Buffer, row: MessageRow): Buffer {
  try {
    return open(key, box, aad(row.channel_id, row.data_key_id!, { seq: row.seq, user: row.user_id }));
  } catch {
    return open(key, box, legacyAad(row.channel_id, row.data_key_id!));
  }
}

/** bytea arrives as a Buffer from a column, or as "\\x…" hex from to_jsonb(). */
function toBuffer(value: Buffer | string): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.replace(/^\\x/, ''), 'hex');
}

export function covers(r: Pick<Revocation, 'channel_id' | 'from_ts' | 'to_ts'>, channel: string, ts: bigint): boolean {
  return (!r.channel_id || r.channel_id === channel) && (!r.from_ts || ts >= BigInt(r.from_ts)) && (!r.to_ts || ts <= BigInt(r.to_ts));
}
