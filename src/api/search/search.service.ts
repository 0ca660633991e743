import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type Config } from '../../config/config.js';
import { BodyCipher } from '../../crypto/body-cipher.js';
import { EkmRepository } from '../../crypto/ekm.repository.js';
import { SearchKeys } from '../../crypto/search-keys.js';
import { toSlackMessage } from '../../domain/message.js';
import { highlight } from '../../domain/search-words.js';
import { SlackError } from '../../domain/slack-error.js';
import { formatTs } from '../../domain/ts.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { FILE_SEARCH, type FileSearchProvider, type FileSearchResult, type SearchPaging } from './file-search.js';
import { highlightTerms, parseSearchQuery, type SearchQuery, tsqueryLiteral } from './search-query.js';
import type { SearchArgs } from './search.dto.js';
import { type SearchHit, SearchRepository, type WordMatch } from './search.repository.js';

const DEFAULT_COUNT = 20;

interface Keyset {
  score: string;
  ts: string;
  channel: string;
}

/**
 * search.messages and search.all. Hits come from the search index (projections/search-index), are
 * limited to channels the caller may read at the moment of the query, and are shown with their
 * current bodies (opened like any read under EKM: a hit whose body is revoked is left out).
 */
@Injectable()
export class SearchService {
  constructor(
    private readonly repo: SearchRepository,
    private readonly keys: SearchKeys,
    private readonly cipher: BodyCipher,
    private readonly ekm: EkmRepository,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(FILE_SEARCH) private readonly files: FileSearchProvider,
  ) {}

  async messages(caller: Caller, args: SearchArgs) {
    const query = args.query.trim();
    if (!query) throw new SlackError('no_query');
    const q = parseSearchQuery(query);
    const count = args.count ?? DEFAULT_COUNT;
    const cursorMode = args.cursor !== undefined;
    const keyset = cursorMode && args.cursor !== '*' ? decodeCursor(args.cursor!) : undefined;
    const page = cursorMode ? 1 : (args.page ?? 1);
    const sort = args.sort ?? 'score';
    const dir = args.sort_dir ?? 'desc';

    const [match, scope] = await Promise.all([this.wordMatch(caller.workspace, q), this.scope(caller, q)]);
    const { total, hits } = scope.none
      ? { total: 0, hits: [] }
      : await this.repo.search({
          workspace: caller.workspace,
          caller: caller.user.id,
          match,
          channels: scope.channels,
          users: scope.users,
          after: q.after,
          before: q.before,
          hasLink: q.has.has('link'),
          hasPin: q.has.has('pin'),
          hasReaction: q.has.has('reaction'),
          sort,
          dir,
          limit: count,
          offset: cursorMode ? 0 : (page - 1) * count,
          after_key: keyset,
        });
    const matches = await this.matches(caller, hits, args.highlight ? highlightTerms(q) : new Set());
    const pages = Math.max(1, Math.ceil(total / count));
    const last = hits[hits.length - 1];
    const next =
      cursorMode && last && hits.length === count ? encodeCursor({ score: last.score, ts: last.ts, channel: last.channel_id }) : '';
    const first = (page - 1) * count + 1;
    return {
      query,
      messages: {
        total,
        matches,
        paging: { count, total, page, pages } satisfies SearchPaging,
        pagination: {
          total_count: total,
          page,
          per_page: count,
          page_count: pages,
          first: hits.length ? first : 0,
          last: hits.length ? first + hits.length - 1 : 0,
          ...(cursorMode ? { next_cursor: next } : {}),
        },
      },
      ...(cursorMode ? { response_metadata: { next_cursor: next } } : {}),
    };
  }

  /** search.all: messages from the index, files from the files feature's provider (FILE_SEARCH). */
  async all(caller: Caller, args: SearchArgs) {
    const messages = await this.messages(caller, { ...args, cursor: undefined });
    const paging = { page: args.page ?? 1, count: args.count ?? DEFAULT_COUNT };
    // Files match by name: the query's words and phrases as typed (modifiers apply to messages).
    const q = parseSearchQuery(args.query);
    const text = [...q.words, ...q.phrases.map((p) => p.join(' '))].join(' ');
    // Modifiers alone name no file: an empty name filter would list every file the caller may see.
    const files: FileSearchResult = text
      ? await this.files.searchByName(caller, text, paging)
      : { total: 0, matches: [], paging: { count: paging.count, total: 0, page: paging.page, pages: 1 } };
    return { ...messages, files, posts: { total: 0, matches: [] } };
  }

  /**
   * The word condition of the query for each kind of index row of the workspace: plain words, and
   * under EKM the blind tokens of every search-key version still in the index. A workspace-wide
   * revocation, or a key the provider will not unwrap, is `ekm_access_denied`.
   */
  private async wordMatch(workspace: string, q: SearchQuery): Promise<WordMatch[] | undefined> {
    const plain = tsqueryLiteral(q);
    if (!plain) return undefined;
    const settings = await this.cipher.settings(workspace);
    if (!settings) return [{ keyVersion: null, tsquery: plain }];
    const revocations = await this.ekm.activeRevocations([workspace]);
    if (revocations.some((r) => !r.channel_id && !r.from_ts && !r.to_ts)) throw new SlackError('ekm_access_denied');
    const keys = await this.keys.all(workspace).catch(() => {
      throw new SlackError('ekm_access_denied');
    });
    // Rows indexed before EKM was enabled stay plain words until the re-keying job reaches them.
    return [
      { keyVersion: null, tsquery: plain },
      ...keys.map((k) => ({ keyVersion: k.version, tsquery: tsqueryLiteral(q, (w) => k.token(w))! })),
    ];
  }

  /** `in:` and `from:` as channel and user ids; `none` when they name nothing that exists. */
  private async scope(caller: Caller, q: SearchQuery): Promise<{ channels?: string[]; users?: string[]; none: boolean }> {
    let channels: string[] | undefined;
    if (q.inChannels.length || q.inUsers.length) {
      const named = q.inChannels.length ? await this.repo.channelIds(caller.workspace, q.inChannels) : [];
      const dmUsers = q.inUsers.length ? await this.repo.userIds(caller.workspace, q.inUsers) : [];
      const dms = dmUsers.length ? await this.repo.directMessageIds(caller.workspace, caller.user.id, dmUsers) : [];
      channels = [...named, ...dms];
    }
    let users: string[] | undefined;
    if (q.fromUsers.length) {
      const others = q.fromUsers.filter((u) => u !== 'me');
      users = [
        ...(others.length ? await this.repo.userIds(caller.workspace, others) : []),
        ...(q.fromUsers.includes('me') ? [caller.user.id] : []),
      ];
    }
    const nothing = !q.modifiers && !tsqueryLiteral(q);
    return { channels, users, none: nothing || channels?.length === 0 || users?.length === 0 };
  }

  /** Slack's match objects for a page of hits, with today's bodies. */
  private async matches(caller: Caller, hits: SearchHit[], terms: Set<string>) {
    const rows = await this.repo.bodies(hits);
    await this.cipher.openRows(rows);
    const bodies = new Map(rows.map((r) => [`${r.channel_id}:${r.ts}`, r]));
    const out = [];
    for (const hit of hits) {
      const row = bodies.get(`${hit.channel_id}:${hit.ts}`);
      // Deleted since the index saw it (the projector lags a little), or revoked: not shown.
      if (!row || row.deleted || row.ekm_denied) continue;
      const message = toSlackMessage(row);
      const ts = formatTs(hit.ts);
      out.push({
        iid: `${hit.channel_id}-${ts}`,
        team: caller.workspace,
        type: 'message',
        user: hit.user_id,
        username: hit.username ?? '',
        ts,
        text: highlight(message.text, terms),
        ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
        ...(message.attachments ? { attachments: message.attachments } : {}),
        permalink: this.permalink(hit.channel_id, ts, message.thread_ts),
        score: Number(hit.score),
        channel: {
          id: hit.channel_id,
          is_channel: hit.kind === 'channel' && !hit.is_private,
          is_group: hit.kind === 'channel' && hit.is_private,
          is_im: hit.kind === 'im',
          is_mpim: hit.kind === 'mpim',
          is_private: hit.is_private,
          is_shared: false,
          is_org_shared: false,
          is_ext_shared: false,
          is_pending_ext_shared: false,
          pending_shared: [],
          name: hit.channel_name,
        },
      });
    }
    return out;
  }

  private permalink(channel: string, ts: string, threadTs: string | undefined): string {
    const base = `${this.config.PUBLIC_URL}/archives/${channel}/p${ts.replace('.', '')}`;
    return threadTs && threadTs !== ts ? `${base}?thread_ts=${threadTs}&cid=${channel}` : base;
  }
}

function encodeCursor(k: Keyset): string {
  return Buffer.from(JSON.stringify([k.score, k.ts, k.channel])).toString('base64url');
}

function decodeCursor(cursor: string): Keyset {
  try {
    const [score, ts, channel] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    if (
      typeof score === 'string' &&
      /^-?[\d.e+-]+$/i.test(score) &&
      typeof ts === 'string' &&
      /^\d{1,20}$/.test(ts) &&
      typeof channel === 'string'
    ) {
      return { score, ts, channel };
    }
  } catch {
    // not our cursor
  }
  throw new SlackError('invalid_cursor');
}
