import type { Chat } from '../chat';
import { SearchBox } from './Search';

const STATE_LABEL = { connecting: 'Connecting…', 'catching up': 'Catching up…', connected: 'Connected', reconnecting: 'Reconnecting…' };

/** Workspace, connection state, the user's channels with unread and mention badges. */
export function Sidebar({
  chat,
  onOpen,
  onBrowse,
  onSignOut,
  onNotifications,
  onSearch,
  searchQuery,
}: {
  chat: Chat;
  onOpen: (id: string) => void;
  onBrowse: () => void;
  onSignOut: () => void;
  onNotifications?: () => void;
  onSearch?: (query: string) => void;
  searchQuery?: string;
}) {
  const channels = [...chat.channels.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <nav class="sidebar" aria-label="Channels">
      <header>
        <h1>{chat.me.workspace.name}</h1>
        <div class="me">{chat.displayName(chat.me.user.id)}</div>
        <div class={`conn ${chat.connection.replace(' ', '-')}`} role="status" data-testid="connection" data-state={chat.connection}>
          {STATE_LABEL[chat.connection]}
        </div>
        {onSearch && <SearchBox onSearch={onSearch} initial={searchQuery} />}
      </header>
      <ul>
        {channels.map((c) => (
          <li key={c.id}>
            <a
              href={`/c/${c.id}`}
              class={`${c.id === chat.current ? 'current' : ''} ${c.unread ? 'unread' : ''}`}
              aria-current={c.id === chat.current ? 'page' : undefined}
              data-channel={c.id}
              onClick={(e) => {
                e.preventDefault();
                onOpen(c.id);
              }}
            >
              <span class="name">
                {c.is_private ? '🔒 ' : '# '}
                {c.name}
              </span>
              {c.mentions > 0 ? (
                <span class="badge mention" data-testid="badge" aria-label={`${c.mentions} mentions`}>
                  {c.mentions}
                </span>
              ) : c.unread > 0 && c.id !== chat.current ? (
                <span class="badge" data-testid="badge" aria-label={`${c.unread} unread`}>
                  {c.unread}
                </span>
              ) : null}
            </a>
          </li>
        ))}
      </ul>
      <footer>
        <button onClick={onBrowse}>+ Browse channels</button>
        {onNotifications && <button onClick={onNotifications}>Notifications</button>}
        <button class="link" onClick={onSignOut}>
          Sign out
        </button>
      </footer>
    </nav>
  );
}
