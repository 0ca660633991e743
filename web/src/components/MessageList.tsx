import { elementScroll, observeElementOffset, observeElementRect, Virtualizer, type VirtualizerOptions } from '@tanstack/virtual-core';
import { useEffect, useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { Chat } from '../chat';
import type { Message, Pending } from '../types';
import { MessageRow, PendingRow } from './MessageRow';

type Row = { key: string; msg?: Message; pending?: Pending };

/** @tanstack/virtual-core bound to Preact (what @tanstack/react-virtual does for React). */
function useVirtualizer(
  options: Omit<VirtualizerOptions<HTMLDivElement, Element>, 'observeElementRect' | 'observeElementOffset' | 'scrollToFn' | 'onChange'>,
) {
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const resolved: VirtualizerOptions<HTMLDivElement, Element> = {
    observeElementRect,
    observeElementOffset,
    scrollToFn: elementScroll,
    ...options,
    onChange: () => redraw(0),
  };
  const [v] = useState(() => new Virtualizer(resolved));
  v.setOptions(resolved);
  useLayoutEffect(() => v._didMount(), []);
  useLayoutEffect(() => v._willUpdate());
  return v;
}

/**
 * The channel's messages, newest at the bottom, only the rows on screen in the DOM. Stays pinned
 * to the bottom while the reader is there; scrolling near the top loads the next older page and
 * keeps the rows under the reader's eyes where they were.
 */
export function MessageList({ chat, channel, onThread }: { chat: Chat; channel: string; onThread: (ts: string) => void }) {
  const scroller = useRef<HTMLDivElement>(null);
  const msgs = chat.messagesOf(channel);
  const rows: Row[] = msgs.visible().map((m) => ({ key: m.ts, msg: m }));
  for (const p of chat.outbox.items) if (p.channel === channel && !p.thread_ts) rows.push({ key: p.client_msg_id, pending: p });
  const atBottom = useRef(true);
  /** A permalink's message being brought into view (the pane does not follow the bottom meanwhile). */
  const focused = useRef<{ ts: string; until: number } | null>(null);
  const anchor = useRef<{ first: string; total: number; top: number } | null>(null);
  /** Redraws while a permalink's message is being brought into view, whether or not anything else changes. */
  const [, recheck] = useReducer((n: number) => n + 1, 0);

  const v = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 56,
    overscan: 8,
    getItemKey: (i) => rows[i]?.key ?? i,
  });

  // Older rows were added above: keep what the reader looks at in place.
  useLayoutEffect(() => {
    const el = scroller.current;
    const a = anchor.current;
    if (!el || !a || rows[0]?.key === a.first) return;
    el.scrollTop = a.top + (v.getTotalSize() - a.total);
    anchor.current = null;
  });
  // While the reader is at the bottom, stay there: new rows, rows measured taller, a narrower window.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && atBottom.current && !focused.current && el.scrollTop + el.clientHeight < el.scrollHeight - 1) el.scrollTop = el.scrollHeight;
  });

  // A permalink's message: load older pages until it is there, then scroll until it is in view
  // (rows measured meanwhile move it) and highlight it.
  useEffect(() => {
    const focus = chat.focus;
    if (focus && focus.channel === channel) {
      if (rows.some((r) => r.msg?.ts === focus.ts)) {
        chat.focus = null;
        // Rows measured meanwhile move it: keep scrolling for a while, however many renders that takes
        // (a slow device renders more often before the rows settle), until the reader scrolls.
        focused.current = { ts: focus.ts, until: Date.now() + 15_000 };
        chat.highlighted = focus.ts;
        chat.changed();
      } else if (!msgs.visible().some((m) => m.ts === focus.ts)) {
        // Not among this render's rows, nor in a page that arrived after it (this effect runs after
        // paint, or first thing in the next render; the render that shows that page takes it from
        // there). Those rows beside the cursor of now would read as "no older page: not in the channel".
        if (msgs.olderCursor === '')
          chat.focus = null; // not in the channel (deleted, or a reply only)
        else if (msgs.olderCursor && !msgs.loading) chat.loadOlder(channel).catch(() => undefined);
      }
    }
    const f = focused.current;
    const el = scroller.current;
    if (!f || !el) return;
    const at = rows.findIndex((r) => r.msg?.ts === f.ts);
    const node = el.querySelector(`[data-index="${at}"]`);
    const box = node?.getBoundingClientRect();
    const pane = el.getBoundingClientRect();
    if (Date.now() > f.until || (box && box.top >= pane.top && box.bottom <= pane.bottom)) {
      focused.current = null;
      return;
    }
    // Not among the rows for a moment (the list is being rebuilt, a catch-up): look again shortly.
    if (at < 0) {
      const later = setTimeout(() => recheck(0), 50);
      return () => clearTimeout(later);
    }
    atBottom.current = false;
    v.scrollToIndex(at, { align: 'center' });
    // Rows measured after this scroll move the message again without a render of their own: look
    // again shortly, so the scrolling does not stop short of it.
    const again = setTimeout(() => recheck(0), 50);
    return () => clearTimeout(again);
  });

  const items = v.getVirtualItems();
  // Presence only for the people whose messages are on screen.
  const onScreen = items.map((i) => rows[i.index]?.msg?.user).filter((u): u is string => !!u);
  useEffect(() => chat.watchPresence(onScreen), [onScreen.join(',')]);

  const letGo = () => {
    focused.current = null;
  };
  const onScroll = () => {
    const el = scroller.current!;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    if (el.scrollTop < 400 && msgs.olderCursor && !msgs.loading) {
      anchor.current = { first: rows[0]?.key ?? '', total: v.getTotalSize(), top: el.scrollTop };
      chat.loadOlder(channel).catch(() => undefined);
    }
    if (atBottom.current) chat.markSoon(channel);
  };

  const divider = chat.dividerAfter;
  return (
    <div
      class="messages"
      ref={scroller}
      onScroll={onScroll}
      // The reader's own scrolling ends a permalink's pull toward its message.
      onWheel={letGo}
      onTouchStart={letGo}
      onKeyDown={letGo}
      role="log"
      aria-label="Messages"
      aria-live="polite"
      tabIndex={0}
      data-testid="messages"
    >
      {msgs.olderCursor === '' && <div class="channel-start">This is the very beginning of the channel.</div>}
      <div class="spacer" style={{ height: `${v.getTotalSize()}px` }}>
        <div class="window" style={{ transform: `translateY(${items[0]?.start ?? 0}px)` }}>
          {items.map((item) => {
            const row = rows[item.index];
            const prev = rows[item.index - 1]?.msg;
            const showDivider =
              divider && row.msg && row.msg.ts > divider && (!prev || prev.ts <= divider) && row.msg.user !== chat.me.user.id;
            return (
              <div
                key={item.key}
                data-index={item.index}
                ref={(el) => {
                  if (el) v.measureElement(el);
                }}
              >
                {showDivider && (
                  <div class="divider" role="separator">
                    <span>New messages</span>
                  </div>
                )}
                {row.msg ? (
                  <MessageRow chat={chat} channel={channel} msg={row.msg} onThread={onThread} />
                ) : (
                  <PendingRow chat={chat} p={row.pending!} />
                )}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
