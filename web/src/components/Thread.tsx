import { useEffect } from 'preact/hooks';
import type { Chat } from '../chat';
import { Composer } from './Composer';
import { MessageRow, PendingRow } from './MessageRow';

/** A thread beside the channel: the parent, its replies oldest first, and a reply composer. */
export function Thread({ chat, channel, ts, onClose }: { chat: Chat; channel: string; ts: string; onClose: () => void }) {
  useEffect(() => {
    chat.openThread(channel, ts).catch(() => undefined);
  }, [channel, ts]);
  const msgs = chat.messagesOf(channel);
  const parent = msgs.get(ts);
  const replies = msgs.threads.get(ts) ?? [];
  const pending = chat.outbox.items.filter((p) => p.channel === channel && p.thread_ts === ts);
  useEffect(() => chat.watchPresence([...(parent ? [parent.user] : []), ...replies.map((r) => r.user)]), [replies.length, parent?.user]);
  return (
    <aside class="thread" aria-label="Thread" data-testid="thread">
      <header>
        <h2>Thread</h2>
        <button class="close" aria-label="Close thread" onClick={onClose}>
          ×
        </button>
      </header>
      <div class="thread-messages">
        {parent && <MessageRow chat={chat} channel={channel} msg={parent} inThread />}
        <div class="reply-count">
          {replies.length} {replies.length === 1 ? 'reply' : 'replies'}
        </div>
        {replies.map((r) => (
          <MessageRow key={r.ts} chat={chat} channel={channel} msg={r} inThread />
        ))}
        {pending.map((p) => (
          <PendingRow key={p.client_msg_id} chat={chat} p={p} />
        ))}
      </div>
      <Composer chat={chat} channel={channel} threadTs={ts} label="Reply…" />
    </aside>
  );
}
