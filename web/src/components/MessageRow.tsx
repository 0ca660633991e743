import { useState } from 'preact/hooks';
import { api } from '../api';
import type { Chat } from '../chat';
import { Link, Mrkdwn, type MrkdwnContext } from '../mrkdwn';
import type { Attachment, Message, Pending } from '../types';
import { Blocks } from './Blocks';
import { MessageFiles } from './Files';
import { LegacyAttachment } from './LegacyAttachment';

export function mrkdwnContext(chat: Chat): MrkdwnContext {
  return {
    userName: (id) => {
      chat.need(id);
      return chat.displayName(id);
    },
    channelName: (id) => chat.channels.get(id)?.name,
  };
}

const time = (ts: string) => new Date(Number(ts) * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export function PresenceDot({ chat, user }: { chat: Chat; user: string }) {
  const state = chat.presence.get(user) ?? 'away';
  return <span class={`dot ${state}`} role="img" aria-label={state === 'active' ? 'active' : 'away'} data-presence={state} />;
}

function Card({ a }: { a: Attachment }) {
  return (
    <div class="unfurl" data-testid="unfurl">
      {a.service_name && <div class="service">{a.service_name}</div>}
      {a.title && <div class="title">{a.title_link ? <Link href={a.title_link}>{a.title}</Link> : a.title}</div>}
      {a.text && <div class="text">{a.text}</div>}
      {a.image_url && a.image_url.startsWith('https:') && <img src={a.image_url} alt="" loading="lazy" />}
    </div>
  );
}

/** One message: author, time, body, unfurl cards, thread summary and the owner's edit/delete. */
export function MessageRow({
  chat,
  channel,
  msg,
  onThread,
  inThread,
}: {
  chat: Chat;
  channel: string;
  msg: Message;
  onThread?: (ts: string) => void;
  inThread?: boolean;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState('');
  const mine = msg.user === chat.me.user.id;
  const ctx = mrkdwnContext(chat);
  const unavailable = msg.subtype === 'ekm_access_denied';
  const tombstone = msg.subtype === 'tombstone';
  // A bot token's username override is the name the message shows (Slack's chat:write.customize).
  const author = msg.username || chat.displayName(msg.user);
  const save = async () => {
    try {
      await api('chat.update', { channel, ts: msg.ts, text: draft });
      setEditing(false);
    } catch (err) {
      setError(String((err as Error).message));
    }
  };
  return (
    <div
      class={`msg${msg.is_ephemeral ? ' ephemeral' : ''}${chat.highlighted === msg.ts ? ' highlight' : ''}`}
      data-ts={msg.ts}
      data-testid="message"
    >
      <div class="avatar" aria-hidden="true">
        {msg.icons?.image_48 ? <img src={msg.icons.image_48} alt="" width={36} height={36} /> : author.slice(0, 1).toUpperCase()}
      </div>
      <div class="body">
        <div class="meta">
          {!tombstone && (
            <>
              <span class="author">{author}</span>
              {msg.bot_id && <span class="app-badge">APP</span>}
              <PresenceDot chat={chat} user={msg.user} />
            </>
          )}
          <time>{time(msg.ts)}</time>
          {msg.edited && <span class="edited">(edited)</span>}
          {msg.subtype === 'thread_broadcast' && !inThread && <span class="edited">replied to a thread</span>}
          {msg.is_ephemeral && <span class="ephemeral-note">Only visible to you</span>}
        </div>
        {editing ? (
          <form
            class="edit"
            onSubmit={(e) => {
              e.preventDefault();
              save();
            }}
          >
            <textarea
              aria-label="Edit message"
              value={draft}
              onInput={(e) => setDraft(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !e.shiftKey) {
                  e.preventDefault();
                  save();
                }
                if (e.key === 'Escape') setEditing(false);
              }}
            />
            <button type="submit">Save</button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </form>
        ) : unavailable ? (
          <div class="unavailable" data-testid="unavailable">
            This message is unavailable.
          </div>
        ) : tombstone ? (
          <div class="unavailable">This message was deleted.</div>
        ) : msg.blocks?.length ? (
          // With blocks, the text is only the notification fallback (as in Slack).
          <Blocks blocks={msg.blocks} ctx={ctx} place={{ channel, ts: msg.ts }} />
        ) : msg.subtype === 'me_message' ? (
          <div class="me-message">
            <Mrkdwn text={msg.text} ctx={ctx} />
          </div>
        ) : (
          <Mrkdwn text={msg.text} ctx={ctx} />
        )}
        {error && <div class="error">{error}</div>}
        {!unavailable && !tombstone && msg.files?.length ? <MessageFiles files={msg.files} /> : null}
        {!unavailable &&
          msg.attachments?.map((a, i) =>
            a.from_url ? <Card key={a.id ?? i} a={a} /> : <LegacyAttachment key={i} a={a} ctx={ctx} place={{ channel, ts: msg.ts }} />,
          )}
        {!inThread && onThread && (msg.reply_count ?? 0) > 0 && (
          <button class="replies" onClick={() => onThread(msg.ts)}>
            {msg.reply_count} {msg.reply_count === 1 ? 'reply' : 'replies'}
          </button>
        )}
      </div>
      {!editing && !tombstone && !msg.is_ephemeral && (
        <div class="actions">
          {onThread && !inThread && (
            <button aria-label="Reply in thread" title="Reply in thread" onClick={() => onThread(msg.thread_ts ?? msg.ts)}>
              Reply
            </button>
          )}
          {mine && !unavailable && (
            <button
              onClick={() => {
                setDraft(msg.text);
                setEditing(true);
              }}
            >
              Edit
            </button>
          )}
          {mine &&
            (confirming ? (
              <button class="danger" onClick={() => api('chat.delete', { channel, ts: msg.ts }).catch((e: Error) => setError(e.message))}>
                Confirm delete
              </button>
            ) : (
              <button onClick={() => setConfirming(true)}>Delete</button>
            ))}
        </div>
      )}
    </div>
  );
}

/** A message written here that the server has not acknowledged yet. */
export function PendingRow({ chat, p }: { chat: Chat; p: Pending }) {
  return (
    <div class={`msg pending ${p.state}`} data-testid="pending" data-state={p.state}>
      <div class="avatar" aria-hidden="true">
        {chat.displayName(chat.me.user.id).slice(0, 1).toUpperCase()}
      </div>
      <div class="body">
        <div class="meta">
          <span class="author">{chat.displayName(chat.me.user.id)}</span>
          <span class="state">{p.state === 'failed' ? `Not sent (${p.error})` : 'Sending…'}</span>
        </div>
        <Mrkdwn text={p.text} ctx={mrkdwnContext(chat)} />
        {p.state === 'failed' && (
          <div class="actions visible">
            <button onClick={() => chat.outbox.retry(p.client_msg_id)}>Retry</button>
            <button onClick={() => chat.outbox.discard(p.client_msg_id)}>Discard</button>
          </div>
        )}
      </div>
    </div>
  );
}
