import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { Chat } from '../chat';
import { disablePush, enablePush, pushState, type PushState } from '../push';

type Level = 'all' | 'mentions' | 'nothing';
interface Prefs {
  notify: Level;
  channels: Array<{ channel: string; notify: Level | null; muted: boolean }>;
}

const LEVELS: Array<[Level, string]> = [
  ['all', 'Every new message'],
  ['mentions', 'Direct messages, mentions and threads I take part in'],
  ['nothing', 'Nothing'],
];

const STATE_TEXT: Record<PushState, string> = {
  unsupported: 'This browser cannot receive notifications.',
  'off-server': 'The server does not send notifications (no VAPID keys configured).',
  denied: 'Notifications are blocked for this site in the browser settings.',
  off: 'Off for this browser.',
  on: 'On for this browser.',
};

/** Notification settings: this browser on/off, the workspace level, the open channel's level and mute (users.prefs.*). */
export function NotifySettings({ chat, onClose }: { chat: Chat; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [prefs, setPrefs] = useState<Prefs | null>(null);
  const [device, setDevice] = useState<PushState | null>(null);
  const [error, setError] = useState('');
  const channel = chat.current ? chat.channels.get(chat.current) : undefined;
  const own = channel ? prefs?.channels.find((c) => c.channel === channel.id) : undefined;
  useEffect(() => {
    dialog.current?.showModal();
    api<{ prefs: Prefs }>('users.prefs.get')
      .then((r) => setPrefs(r.prefs))
      .catch((e: Error) => setError(e.message));
    pushState()
      .then(setDevice)
      .catch(() => setDevice('unsupported'));
  }, []);
  const save = async (args: Record<string, unknown>) => {
    setError('');
    try {
      setPrefs((await api<{ prefs: Prefs }>('users.prefs.set', args)).prefs);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const toggleDevice = async () => {
    setError('');
    try {
      setDevice(await (device === 'on' ? disablePush() : enablePush()));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <dialog ref={dialog} class="browser notify-settings" aria-labelledby="notify-title" onClose={onClose}>
      <header>
        <h2 id="notify-title">Notifications</h2>
        <button class="close" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <section>
        <p data-testid="push-state">{device ? STATE_TEXT[device] : 'Checking this browser…'}</p>
        {(device === 'on' || device === 'off') && (
          <button onClick={toggleDevice}>{device === 'on' ? 'Turn off for this browser' : 'Turn on for this browser'}</button>
        )}
      </section>
      {prefs && (
        <form onSubmit={(e) => e.preventDefault()}>
          <label>
            Notify me about
            <select
              aria-label="Workspace notification level"
              value={prefs.notify}
              onChange={(e) => save({ notify: e.currentTarget.value })}
            >
              {LEVELS.map(([value, text]) => (
                <option key={value} value={value}>
                  {text}
                </option>
              ))}
            </select>
          </label>
          {channel && (
            <>
              <label>
                In #{channel.name}
                <select
                  aria-label="Channel notification level"
                  value={own?.notify ?? 'default'}
                  onChange={(e) => save({ channel: channel.id, notify: e.currentTarget.value })}
                >
                  <option value="default">Same as the workspace</option>
                  {LEVELS.map(([value, text]) => (
                    <option key={value} value={value}>
                      {text}
                    </option>
                  ))}
                </select>
              </label>
              <label class="check">
                <input
                  type="checkbox"
                  aria-label={`Mute #${channel.name}`}
                  checked={own?.muted ?? false}
                  onChange={(e) => save({ channel: channel.id, muted: e.currentTarget.checked })}
                />{' '}
                Mute #{channel.name}
              </label>
            </>
          )}
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </dialog>
  );
}
