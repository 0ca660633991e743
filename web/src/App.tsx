import { useEffect, useRef, useState } from 'preact/hooks';
import { currentSession, onSignedOut, signIn, signOut, type Me } from './api';
import { Chat } from './chat';
import { useChat } from './hooks';
import { Browser } from './components/Browser';
import { Composer, type DropTarget } from './components/Composer';
import { MessageList } from './components/MessageList';
import { NotifySettings } from './components/NotifySettings';
import { type SearchHit, SearchResults } from './components/Search';
import { Sidebar } from './components/Sidebar';
import { Thread } from './components/Thread';

type Screen = { kind: 'loading' } | { kind: 'signin'; error?: string } | { kind: 'chat'; chat: Chat };

/** Boot: a /signin#code=… link is exchanged once; otherwise the existing session, or sign-in. */
export function App() {
  const [screen, setScreen] = useState<Screen>({ kind: 'loading' });
  useEffect(() => {
    const toSignIn = (error?: string) => {
      setScreen((s) => {
        if (s.kind === 'chat') s.chat.stop();
        return { kind: 'signin', error };
      });
      if (location.pathname !== '/signin') history.replaceState(null, '', '/signin');
    };
    onSignedOut(() => toSignIn('Your session ended. Sign in again.'));
    const start = (me: Me) => {
      const chat = new Chat(me, () => toSignIn('You were signed out.'));
      setScreen({ kind: 'chat', chat });
      chat.start(channelFromPath()).catch(() => undefined);
    };
    const code = location.pathname === '/signin' ? new URLSearchParams(location.hash.slice(1)).get('code') : null;
    if (code) {
      history.replaceState(null, '', '/');
      signIn(code).then(start, () => toSignIn('This sign-in link is not valid any more. Ask an admin for a new one.'));
    } else {
      currentSession().then(
        (me) => (me ? start(me) : toSignIn()),
        () => toSignIn('The server cannot be reached.'),
      );
    }
  }, []);
  if (screen.kind === 'loading') return <div class="splash">Loading…</div>;
  if (screen.kind === 'signin') return <SignIn error={screen.error} />;
  return <Shell chat={screen.chat} />;
}

function SignIn({ error }: { error?: string }) {
  return (
    <main class="signin" data-testid="signin">
      <h1>Sign in to atomcast</h1>
      <p>Open the sign-in link an admin created for you. Each link works once.</p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}

/** A permalink (chat.getPermalink): /archives/<channel>/p<ts without its dot>[?thread_ts=…]. */
const permalink = (url: URL | Location = location) => {
  const m = /^\/archives\/([A-Z0-9]+)\/p(\d{10})(\d{6})$/.exec(url.pathname);
  if (!m) return null;
  const threadTs = new URLSearchParams(url.search).get('thread_ts');
  return { channel: m[1], ts: `${m[2]}.${m[3]}`, threadTs: threadTs && /^\d{10}\.\d{6}$/.test(threadTs) ? threadTs : null };
};

const channelFromPath = () => /^\/c\/([A-Z0-9]+)$/.exec(location.pathname)?.[1] ?? permalink()?.channel ?? null;

function Shell({ chat }: { chat: Chat }) {
  useChat(chat);
  const [thread, setThread] = useState<string | null>(null);
  const [browsing, setBrowsing] = useState(false);
  const [notifySettings, setNotifySettings] = useState(false);
  const [search, setSearch] = useState<string | null>(null);
  const dropTarget = useRef<DropTarget['current']>(null);
  const open = (id: string | null, push = true) => {
    chat.open(id);
    setThread(null);
    if (push) history.pushState(null, '', id ? `/c/${id}` : '/');
  };
  useEffect(() => {
    const onPop = () => open(channelFromPath(), false);
    addEventListener('popstate', onPop);
    const onVisible = () => {
      // A hidden tab is not looking: the server notifies this user about the channel meanwhile.
      chat.emit('view', { channel: document.visibilityState === 'visible' ? chat.current : null }).catch(() => undefined);
      if (chat.current && document.visibilityState === 'visible') chat.markSoon(chat.current);
    };
    document.addEventListener('visibilitychange', onVisible);
    addEventListener('pagehide', () => chat.saveCursors());
    return () => {
      removeEventListener('popstate', onPop);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, []);
  /** A search hit: its channel at the message, highlighted (a reply: its thread beside it), as a permalink would. */
  const openHit = (hit: SearchHit) => {
    const link = permalink(new URL(hit.permalink, location.href));
    const channel = link?.channel ?? hit.channel.id;
    if (!chat.channels.has(channel)) return;
    const threadTs = link ? link.threadTs : hit.thread_ts && hit.thread_ts !== hit.ts ? hit.thread_ts : null;
    chat.focus = { channel, ts: threadTs ?? hit.ts };
    open(channel, false);
    const url = new URL(hit.permalink, location.href);
    history.pushState(null, '', url.origin === location.origin ? url.pathname + url.search : `/c/${channel}`);
    setThread(threadTs);
    // A phone shows one column: the channel (or thread) replaces the results.
    if (!matchMedia('(min-width: 700px)').matches) setSearch(null);
    chat.changed();
  };
  // The URL's channel once the sidebar knows it; otherwise the first channel on a wide screen.
  useEffect(() => {
    if (chat.current || !chat.channels.size) return;
    const wanted = channelFromPath();
    const link = permalink();
    if (link && chat.channels.has(link.channel)) {
      // A permalink opens its channel at the message (a reply: its thread, beside it).
      chat.focus = { channel: link.channel, ts: link.threadTs ?? link.ts };
      open(link.channel, false);
      if (link.threadTs) setThread(link.threadTs);
    } else if (wanted && chat.channels.has(wanted)) open(wanted, false);
    else if (!wanted && matchMedia('(min-width: 700px)').matches)
      open([...chat.channels.values()].sort((a, b) => a.name.localeCompare(b.name))[0].id, false);
  });
  const current = chat.current ? chat.channels.get(chat.current) : undefined;
  const typing = current ? chat.typingIn(current.id) : [];
  return (
    <div class={`app ${current ? 'has-channel' : ''} ${(current && thread) || search !== null ? 'has-thread' : ''}`}>
      <Sidebar
        chat={chat}
        onOpen={(id) => open(id)}
        onBrowse={() => setBrowsing(true)}
        onNotifications={() => setNotifySettings(true)}
        onSearch={(q) => {
          setSearch(q);
          setThread(null);
        }}
        searchQuery={search ?? ''}
        onSignOut={() => {
          chat.stop();
          signOut().then(() => location.assign('/signin'));
        }}
      />
      <main
        class="pane"
        aria-label={current ? `#${current.name}` : 'No channel'}
        onDragOver={(e) => {
          if (current && e.dataTransfer?.types.includes('Files')) e.preventDefault();
        }}
        onDrop={(e) => {
          const files = [...(e.dataTransfer?.files ?? [])];
          if (!files.length || !dropTarget.current) return;
          e.preventDefault();
          dropTarget.current(files);
        }}
      >
        {current ? (
          <>
            <header class="pane-header">
              <button class="back" aria-label="Back to channels" onClick={() => open(null)}>
                ‹
              </button>
              <h2>
                {current.is_private ? '🔒 ' : '# '}
                {current.name}
              </h2>
              {chat.connection !== 'connected' && (
                <span class="conn-inline" role="status">
                  {chat.connection}
                </span>
              )}
            </header>
            <MessageList key={current.id} chat={chat} channel={current.id} onThread={setThread} />
            <div class="typing" aria-live="polite" data-testid="typing">
              {typing.length > 0 && `${typing.map((u) => chat.displayName(u)).join(', ')} ${typing.length > 1 ? 'are' : 'is'} typing…`}
            </div>
            <Composer key={current.id} chat={chat} channel={current.id} label={`Message #${current.name}`} dropTarget={dropTarget} />
          </>
        ) : (
          <div class="empty-pane">{chat.channels.size ? 'Pick a channel.' : 'Join or create a channel to start.'}</div>
        )}
      </main>
      {current && thread ? (
        <Thread chat={chat} channel={current.id} ts={thread} onClose={() => setThread(null)} />
      ) : (
        search !== null && <SearchResults chat={chat} query={search} onOpenHit={openHit} onClose={() => setSearch(null)} />
      )}
      {notifySettings && <NotifySettings chat={chat} onClose={() => setNotifySettings(false)} />}
      {browsing && <Browser chat={chat} onClose={() => setBrowsing(false)} onOpen={(id) => open(id)} />}
    </div>
  );
}
