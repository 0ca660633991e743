import { useRef, useState } from 'preact/hooks';
import type { Chat } from '../chat';

/** Enter sends, Shift+Enter starts a new line; typing tells the channel's viewers. */
export function Composer({ chat, channel, threadTs, label }: { chat: Chat; channel: string; threadTs?: string; label: string }) {
  const [text, setText] = useState('');
  const [broadcast, setBroadcast] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const send = () => {
    if (!text.trim()) return;
    chat.outbox.add({ channel, text, ...(threadTs ? { thread_ts: threadTs, reply_broadcast: broadcast } : {}) });
    setText('');
    box.current?.focus();
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <textarea
        ref={box}
        rows={1}
        value={text}
        aria-label={label}
        placeholder={label}
        onInput={(e) => {
          setText(e.currentTarget.value);
          chat.sendTyping(channel);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      {threadTs && (
        <label class="broadcast">
          <input type="checkbox" checked={broadcast} onChange={(e) => setBroadcast(e.currentTarget.checked)} /> Also send to channel
        </label>
      )}
      <button type="submit" class="send" disabled={!text.trim()}>
        Send
      </button>
    </form>
  );
}
