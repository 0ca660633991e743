import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { Chat } from '../chat';

interface Listed {
  id: string;
  name: string;
  is_member: boolean;
  purpose?: { value: string };
}

/** Find, join and create channels (conversations.list / join / create). */
export function Browser({ chat, onClose, onOpen }: { chat: Chat; onClose: () => void; onOpen: (id: string) => void }) {
  const [all, setAll] = useState<Listed[]>([]);
  const [query, setQuery] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
    api<{ channels: Listed[] }>('conversations.list', { exclude_archived: true, limit: 1000 })
      .then((r) => setAll(r.channels))
      .catch((e: Error) => setError(e.message));
  }, []);
  const shown = all.filter((c) => c.name.includes(query.trim().toLowerCase()));
  const act = async (work: () => Promise<string>) => {
    try {
      onOpen(await work());
      onClose();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <dialog ref={dialog} class="browser" aria-labelledby="browser-title" onClose={onClose}>
      <header>
        <h2 id="browser-title">Channels</h2>
        <button class="close" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <input
        type="search"
        aria-label="Find a channel"
        placeholder="Find a channel"
        value={query}
        onInput={(e) => setQuery(e.currentTarget.value)}
      />
      <ul>
        {shown.map((c) => (
          <li key={c.id}>
            <span># {c.name}</span>
            {c.is_member || chat.channels.has(c.id) ? (
              <button onClick={() => act(async () => c.id)}>Open</button>
            ) : (
              <button onClick={() => act(async () => (await chat.joinChannel(c.id), c.id))}>Join</button>
            )}
          </li>
        ))}
        {!shown.length && <li class="empty">No channel matches.</li>}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          act(() => chat.createChannel(name.trim()));
        }}
      >
        <label>
          New channel name <input value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="e.g. design" />
        </label>
        <button type="submit" disabled={!name.trim()}>
          Create
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </dialog>
  );
}
