import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { Chat } from '../chat';
import type { MessageFile } from '../types';
import { FileCard } from './Files';

// Search: the box in the sidebar's header and the results beside the channel. The query goes to
// search.messages as typed (Slack's syntax: in:#x from:@y "a phrase" -word before: after: has:);
// files come from search.all's files section. Highlighted words arrive wrapped in U+E000/U+E001
// and are drawn as <mark> text nodes: nothing from a message is ever parsed as HTML.

const HL_START = '\ue000';
const HL_END = '\ue001';
const COUNT = 20;
/**
 * search.messages counts matches exactly up to 2,000 and answers 2,000 beyond (docs/search.md, the
 * server's COUNT_CAP): at the cap the total is a floor, and the client says so.
 */
const MESSAGE_TOTAL_CAP = 2000;

/** A total as people read it: grouped digits, and a "+" when it is the server's cap. */
const howMany = (total: number, cap = Infinity) => `${total.toLocaleString('en-US')}${total >= cap ? '+' : ''}`;

export interface SearchHit {
  iid: string;
  user: string;
  username?: string;
  ts: string;
  text: string;
  thread_ts?: string;
  permalink: string;
  channel: { id: string; name: string; is_private: boolean; is_im?: boolean; is_mpim?: boolean };
}

interface Paging {
  total: number;
  page: number;
  pages: number;
}

export function SearchBox({ onSearch, initial }: { onSearch: (query: string) => void; initial?: string }) {
  const [q, setQ] = useState(initial ?? '');
  useEffect(() => setQ(initial ?? ''), [initial]);
  return (
    <form
      class="search-box"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        if (q.trim()) onSearch(q.trim());
      }}
    >
      <input
        type="search"
        value={q}
        aria-label="Search messages and files"
        placeholder="Search"
        onInput={(e) => setQ(e.currentTarget.value)}
      />
    </form>
  );
}

/**
 * Slack markup as a person reads it, highlight markers kept: `<@U1>` → @name, `<#C1|x>` → #x,
 * `<url|label>` → label, `<!here>` → @here, entities decoded. A marker inside a link is dropped.
 */
export function readable(text: string, userName: (id: string) => string): string {
  return text
    .replace(/<([^<>]*)>/g, (_, raw: string) => {
      const inner = raw.replace(/[\ue000\ue001]/g, '');
      const [target, label] = inner.split('|', 2);
      if (target.startsWith('@')) return `@${label || userName(target.slice(1))}`;
      if (target.startsWith('#')) return `#${label || target.slice(1)}`;
      if (target.startsWith('!')) return `@${label || target.slice(1).split('^')[0]}`;
      return label || target;
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Text with <mark> for the highlighted runs, as text nodes only. */
export function Highlighted({ text }: { text: string }) {
  const parts: Array<{ text: string; mark: boolean }> = [];
  let mark = false;
  let run = '';
  const flush = () => {
    if (run) parts.push({ text: run, mark });
    run = '';
  };
  for (const ch of text) {
    if (ch === HL_START || ch === HL_END) {
      flush();
      mark = ch === HL_START;
    } else run += ch;
  }
  flush();
  return <>{parts.map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : p.text))}</>;
}

const when = (ts: string) =>
  new Date(Number(ts) * 1000).toLocaleString([], { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function Pager({ paging, onPage }: { paging: Paging; onPage: (page: number) => void }) {
  if (paging.pages <= 1) return null;
  return (
    <nav class="pager" aria-label="Result pages">
      <button disabled={paging.page <= 1} onClick={() => onPage(paging.page - 1)}>
        ‹ Previous
      </button>
      <span>
        Page {paging.page} of {paging.pages}
      </span>
      <button disabled={paging.page >= paging.pages} onClick={() => onPage(paging.page + 1)}>
        Next ›
      </button>
    </nav>
  );
}

export function SearchResults({
  chat,
  query,
  onOpenHit,
  onClose,
}: {
  chat: Chat;
  query: string;
  onOpenHit: (hit: SearchHit) => void;
  onClose: () => void;
}) {
  const [tab, setTab] = useState<'messages' | 'files'>('messages');
  const [sort, setSort] = useState<'score' | 'timestamp'>('score');
  const [page, setPage] = useState(1);
  const [answer, setAnswer] = useState<
    { key: string } & (
      | { kind: 'error'; code: string }
      | { kind: 'messages'; hits: SearchHit[]; paging: Paging }
      | { kind: 'files'; files: MessageFile[]; paging: Paging }
    )
  >();
  // A new query, tab or order starts at its first page.
  const [askedFor, setAskedFor] = useState(query + tab + sort);
  if (askedFor !== query + tab + sort) {
    setAskedFor(query + tab + sort);
    setPage(1);
  }
  // What the list shows must answer what is asked now (an older answer reads as still searching).
  const key = JSON.stringify([query, tab, sort, page]);
  const state = answer?.key === key ? answer : { kind: 'loading' as const };
  useEffect(() => {
    let live = true;
    const args = { query, count: COUNT, page, highlight: true, sort };
    const request =
      tab === 'messages'
        ? api<{ messages: { matches: SearchHit[]; paging: Paging } }>('search.messages', args).then((r) => {
            for (const h of r.messages.matches) chat.need(h.user);
            return { kind: 'messages' as const, hits: r.messages.matches, paging: r.messages.paging };
          })
        : api<{ files: { matches: MessageFile[]; paging: Paging } }>('search.all', args).then((r) => {
            for (const f of r.files.matches) if (f.user) chat.need(f.user);
            return { kind: 'files' as const, files: r.files.matches, paging: r.files.paging };
          });
    request.then(
      (s) => live && setAnswer({ ...s, key }),
      (err: Error) => live && setAnswer({ kind: 'error', code: err.message, key }),
    );
    return () => {
      live = false;
    };
  }, [key]);

  const userName = (id: string) => chat.displayName(id);
  return (
    <aside class="thread search-results" aria-label="Search results" data-testid="search-results">
      <header>
        <h2>Search: {query}</h2>
        <button class="close" aria-label="Close search" onClick={onClose}>
          ×
        </button>
      </header>
      <div class="search-tabs" role="tablist">
        <button role="tab" aria-selected={tab === 'messages'} onClick={() => setTab('messages')}>
          Messages
        </button>
        <button role="tab" aria-selected={tab === 'files'} onClick={() => setTab('files')}>
          Files
        </button>
        {tab === 'messages' && (
          <select aria-label="Sort results" value={sort} onChange={(e) => setSort(e.currentTarget.value as 'score' | 'timestamp')}>
            <option value="score">Most relevant</option>
            <option value="timestamp">Newest</option>
          </select>
        )}
      </div>
      <div class="search-list" role="tabpanel" aria-busy={state.kind === 'loading'}>
        {state.kind === 'loading' && <p class="search-note">Searching…</p>}
        {state.kind === 'error' && (
          <p class="search-note error" role="alert">
            {state.code === 'ekm_access_denied'
              ? 'Search is unavailable: the workspace key is revoked.'
              : `Search did not go through (${state.code}).`}
          </p>
        )}
        {state.kind === 'messages' && (
          <>
            <p class="search-note" data-testid="search-total">
              {state.paging.total === 0
                ? 'No messages match.'
                : `${howMany(state.paging.total, MESSAGE_TOTAL_CAP)} ${state.paging.total === 1 ? 'message' : 'messages'}`}
            </p>
            <ul>
              {state.hits.map((h) => {
                const member = chat.channels.has(h.channel.id);
                return (
                  <li key={h.iid}>
                    <button
                      class="hit"
                      data-testid="search-hit"
                      data-channel={h.channel.id}
                      data-ts={h.ts}
                      disabled={!member}
                      onClick={() => onOpenHit(h)}
                    >
                      <span class="hit-meta">
                        <span class="hit-channel">
                          {h.channel.is_private ? '🔒 ' : '# '}
                          {h.channel.name}
                        </span>
                        <span class="hit-author">{h.username && !chat.users.has(h.user) ? h.username : userName(h.user)}</span>
                        <time>{when(h.ts)}</time>
                        {h.thread_ts && h.thread_ts !== h.ts && <span class="hit-reply">in a thread</span>}
                      </span>
                      <span class="hit-text">
                        <Highlighted text={readable(h.text, userName)} />
                      </span>
                      {!member && <span class="hit-note">Join #{h.channel.name} to open it</span>}
                    </button>
                  </li>
                );
              })}
            </ul>
            <Pager paging={state.paging} onPage={setPage} />
          </>
        )}
        {state.kind === 'files' && (
          <>
            <p class="search-note" data-testid="search-total">
              {state.paging.total === 0
                ? 'No files match.'
                : `${howMany(state.paging.total)} ${state.paging.total === 1 ? 'file' : 'files'}`}
            </p>
            <ul>
              {state.files.map((f) => (
                <li key={f.id} data-testid="search-file">
                  <FileCard file={f} />
                  <div class="hit-meta">
                    {f.user && <span class="hit-author">{userName(f.user)}</span>}
                    {f.created && <time>{when(String(f.created))}</time>}
                  </div>
                </li>
              ))}
            </ul>
            <Pager paging={state.paging} onPage={setPage} />
          </>
        )}
      </div>
    </aside>
  );
}
