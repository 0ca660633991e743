import { io, type Socket } from 'socket.io-client';
import { api, type Me } from './api';
import { ChannelMessages } from './messages';
import { Outbox } from './outbox';
import type { Channel, ChannelEvent, ConnectionState, Message, Pending } from './types';

/**
 * The client's state and its one socket: channels with badges, messages per channel, people,
 * presence, typing and the connection state. Views read it and subscribe(); changes are
 * announced once per animation frame, so a burst of events costs one redraw.
 */
export class Chat {
  channels = new Map<string, Channel>();
  messages = new Map<string, ChannelMessages>();
  users = new Map<string, { name: string; real_name?: string }>();
  presence = new Map<string, 'active' | 'away'>();
  typing = new Map<string, Map<string, number>>();
  connection: ConnectionState = 'connecting';
  current: string | null = null;
  /** ts of the read marker when the current channel was opened: the "new messages" divider. */
  dividerAfter: string | null = null;
  /** A permalink's message (/archives/C…/p…): the message list scrolls to it and highlights it. */
  focus: { channel: string; ts: string } | null = null;
  highlighted: string | null = null;
  readonly outbox: Outbox;
  private socket!: Socket;
  private cursors: Record<string, number>;
  /** latest_seq of each channel at the last client.counts: events up to it are already counted. */
  private countedSeq = new Map<string, number>();
  private catchUpTo = new Map<string, number>();
  private listeners = new Set<() => void>();
  private frame = 0;
  private pendingUsers = new Set<string>();
  private presenceWanted = '';

  constructor(
    readonly me: Me,
    private readonly onRevoked: () => void,
  ) {
    this.cursors = JSON.parse(localStorage.getItem(this.cursorKey) ?? '{}') as Record<string, number>;
    this.outbox = new Outbox(
      me.user.id,
      (event, body) => this.emit(event, body),
      () => this.changed(),
      (p, ts) => this.onSent(p, ts),
    );
    this.users.set(me.user.id, me.user);
  }

  private get cursorKey(): string {
    return `atomcast:cursors:${this.me.workspace.id}:${this.me.user.id}`;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const fn of this.listeners) fn();
    });
  }

  /** `firstChannel`: the channel the address names, whose newest page loads alongside the sidebar. */
  async start(firstChannel: string | null): Promise<void> {
    // Only with a stored cursor: the socket then resumes from before this page, so nothing falls between.
    if (firstChannel && this.cursors[firstChannel] !== undefined) this.loadOlder(firstChannel).catch(() => undefined);
    await this.loadChannels();
    this.connect();
  }

  /** Sidebar: the channels the user is in (names from conversations.list, badges from client.counts). */
  private async loadChannels(): Promise<void> {
    const counts = this.fetchCounts();
    let cursor = '';
    do {
      const page = await api<{ channels: Array<Record<string, unknown>>; response_metadata: { next_cursor: string } }>(
        'conversations.list',
        {
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 1000,
          cursor,
        },
      );
      for (const c of page.channels) if (c.is_member) this.addChannel(c);
      cursor = page.response_metadata.next_cursor;
    } while (cursor);
    this.applyCounts(await counts);
  }

  private addChannel(c: Record<string, unknown>): void {
    const id = String(c.id);
    const had = this.channels.get(id);
    this.channels.set(id, {
      id,
      name: String(c.name),
      is_private: Boolean(c.is_private),
      is_archived: Boolean(c.is_archived),
      unread: had?.unread ?? 0,
      mentions: had?.mentions ?? 0,
      last_read: String(c.last_read ?? had?.last_read ?? '0'),
    });
    if (this.cursors[id] === undefined && typeof c.latest_seq === 'number') this.cursors[id] = c.latest_seq;
    this.changed();
  }

  /** Badges and heads; also what "caught up" means after a (re)connect. */
  private async loadCounts(): Promise<void> {
    this.applyCounts(await this.fetchCounts());
  }

  private fetchCounts() {
    return api<{
      channels: Array<{ id: string; last_read: string; latest_seq: number; unread_count: number; mention_count: number }>;
    }>('client.counts');
  }

  private applyCounts(res: Awaited<ReturnType<Chat['fetchCounts']>>): void {
    for (const c of res.channels) {
      const ch = this.channels.get(c.id);
      if (!ch) continue;
      Object.assign(ch, { unread: c.unread_count, mentions: c.mention_count, last_read: c.last_read });
      this.countedSeq.set(c.id, c.latest_seq);
      if (this.cursors[c.id] === undefined) this.cursors[c.id] = c.latest_seq;
      if (this.cursors[c.id] < c.latest_seq) this.catchUpTo.set(c.id, c.latest_seq);
    }
    this.checkCaughtUp();
    this.changed();
  }

  private connect(): void {
    this.socket = io({
      transports: ['websocket'],
      withCredentials: true,
      // Evaluated on every (re)connection: the server resumes each channel right after its cursor.
      auth: (cb) => cb({ cursors: this.cursors }),
    });
    this.socket.on('connect', () => {
      this.connection = 'catching up';
      this.changed();
      if (this.current) {
        this.emit('view', { channel: this.current }).catch(() => undefined);
        // A first page that failed while offline is fetched now.
        if (this.messagesOf(this.current).olderCursor === null) this.loadOlder(this.current).catch(() => undefined);
      }
      this.presenceWanted = '';
      this.watchPresence(this.presenceUsers);
      this.loadCounts().catch(() => undefined);
      this.outbox.resume();
    });
    this.socket.on('disconnect', () => {
      // Nothing is buffered for later: the outbox re-sends, with the same client_msg_id.
      (this.socket as unknown as { sendBuffer: unknown[] }).sendBuffer = [];
      this.connection = 'reconnecting';
      this.outbox.pause();
      this.changed();
    });
    this.socket.on('connect_error', (err) => {
      if (err.message === 'invalid_auth' || err.message === 'not_authed') return this.revoked();
      this.connection = 'reconnecting';
      this.changed();
    });
    this.socket.on('revoked', () => this.revoked());
    this.socket.on('event', (e: ChannelEvent) => this.onEvent(e));
    this.socket.on('ephemeral', (e: { channel: string; message: Message }) => this.onEphemeral(e.channel, e.message));
    this.socket.on('counts', (c: { channel: string; unread_count: number; mention_count: number }) => {
      const ch = this.channels.get(c.channel);
      if (ch) Object.assign(ch, { unread: c.unread_count, mentions: c.mention_count });
      this.changed();
    });
    this.socket.on('typing', (t: { channel: string; user: string }) => {
      if (t.user === this.me.user.id) return;
      const of = this.typing.get(t.channel) ?? new Map<string, number>();
      of.set(t.user, Date.now() + 5000);
      this.typing.set(t.channel, of);
      this.need(t.user);
      this.changed();
      setTimeout(() => this.changed(), 5100);
    });
    this.socket.on('presence', (p: { user: string; presence: 'active' | 'away' }) => {
      this.presence.set(p.user, p.presence);
      this.changed();
    });
    this.socket.on('resync', (r: { channel: string }) => {
      this.emit('sync', { cursors: { [r.channel]: this.cursors[r.channel] ?? 0 } });
    });
  }

  private revoked(): void {
    this.socket.disconnect();
    this.onRevoked();
  }

  stop(): void {
    this.socket?.disconnect();
  }

  /** Emits with an ack; rejects on a refusal or when no ack comes within 10 s. */
  emit(event: string, body: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (!this.socket?.connected) return reject(new Error('offline'));
      this.socket.timeout(10_000).emit(event, body, (err: Error | null, ack: Record<string, unknown>) => {
        if (err) reject(err);
        else if (ack?.ok) resolve(ack);
        else reject(Object.assign(new Error(String(ack?.error)), { code: String(ack?.error) }));
      });
    });
  }

  private onEvent(e: ChannelEvent): void {
    const prev = this.cursors[e.channel];
    if (prev !== undefined && e.seq <= prev) return; // already seen (a sync restart may repeat a few)
    this.cursors[e.channel] = e.seq;
    this.saveCursorsSoon();
    const msgs = this.messagesOf(e.channel);
    const ch = this.channels.get(e.channel);
    if (e.type === 'message' && e.user) {
      const msg: Message = {
        ts: e.ts,
        user: e.user,
        text: e.text ?? '',
        subtype: e.subtype,
        thread_ts: e.thread_ts,
        client_msg_id: e.client_msg_id,
      };
      if (e.attachments) msg.attachments = e.attachments;
      if (e.blocks) msg.blocks = e.blocks;
      if (e.files) msg.files = e.files;
      if (e.bot_id) msg.bot_id = e.bot_id;
      if (e.username) msg.username = e.username;
      if (e.icons) msg.icons = e.icons;
      if (e.client_msg_id) this.outbox.delivered(e.client_msg_id);
      const isReply = e.thread_ts && e.thread_ts !== e.ts;
      if (isReply) msgs.addReply({ ...msg }, true);
      if (!isReply || e.subtype === 'thread_broadcast') msgs.upsert(msg);
      this.need(e.user);
      this.typing.get(e.channel)?.delete(e.user);
      if (ch && e.user !== this.me.user.id && e.seq > (this.countedSeq.get(e.channel) ?? 0) && !isReply) {
        if (this.isReading(e.channel)) this.markSoon(e.channel);
        else {
          ch.unread++;
          if (this.mentionsMe(msg.text)) ch.mentions++;
        }
      }
    } else if (e.type === 'message_changed') {
      if (e.message) {
        if (e.message.thread_ts && e.message.thread_ts !== e.message.ts) msgs.addReply(e.message, false);
        // Blocks or attachments an edit removed are absent from the event: clear them here too.
        if (msgs.get(e.message.ts))
          msgs.upsert({ ...e.message, blocks: e.message.blocks, attachments: e.message.attachments, files: e.message.files });
      }
    } else if (e.type === 'message_deleted' && e.deleted_ts) {
      const had = msgs.get(e.deleted_ts);
      if (had?.reply_count) msgs.upsert({ ...had, text: '', subtype: 'tombstone', attachments: undefined, files: undefined });
      else msgs.remove(e.deleted_ts);
      for (const replies of msgs.threads.values()) {
        const at = replies.findIndex((r) => r.ts === e.deleted_ts);
        if (at >= 0) replies.splice(at, 1);
      }
      msgs.version++;
    } else if (e.type === 'member_joined_channel' && e.user === this.me.user.id && !ch) {
      api<{ channel: Record<string, unknown> }>('conversations.info', { channel: e.channel })
        .then((r) => this.addChannel(r.channel))
        .catch(() => undefined);
    } else if ((e.type === 'member_left_channel' && e.user === this.me.user.id) || e.type === 'channel_archive') {
      this.channels.delete(e.channel);
      if (this.current === e.channel) this.current = null;
    }
    this.checkCaughtUp();
    this.changed();
  }

  /** chat.postEphemeral for this user: shown in its channel (or thread) until the page reloads; never stored. */
  private onEphemeral(channel: string, message: Message): void {
    if (!this.channels.has(channel)) return;
    const msgs = this.messagesOf(channel);
    const msg: Message = { ...message, is_ephemeral: true };
    if (msg.thread_ts) msgs.addReply(msg, false);
    else msgs.upsert(msg);
    this.need(msg.user);
    this.changed();
  }

  /** The ack came before the event: show the message as sent now (the event then finds it by ts). */
  private onSent(p: Pending, ts: string): void {
    const msgs = this.messagesOf(p.channel);
    const msg: Message = { ts, user: this.me.user.id, text: p.text, client_msg_id: p.client_msg_id, thread_ts: p.thread_ts };
    if (p.thread_ts) msgs.addReply({ ...msg }, true);
    if (!p.thread_ts) msgs.upsert(msg);
    else if (p.reply_broadcast) msgs.upsert({ ...msg, subtype: 'thread_broadcast' });
  }

  private checkCaughtUp(): void {
    for (const [channel, target] of this.catchUpTo) if ((this.cursors[channel] ?? 0) >= target) this.catchUpTo.delete(channel);
    if (this.connection === 'catching up' && this.catchUpTo.size === 0 && this.socket?.connected) {
      this.connection = 'connected';
      this.changed();
    }
  }

  private saveTimer = 0;
  private saveCursorsSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = window.setTimeout(() => this.saveCursors(), 300);
  }

  /** Written after the events were applied, so a stored cursor never runs ahead of what is shown. */
  saveCursors(): void {
    this.saveTimer = 0;
    localStorage.setItem(this.cursorKey, JSON.stringify(this.cursors));
  }

  messagesOf(channel: string): ChannelMessages {
    let m = this.messages.get(channel);
    if (!m) this.messages.set(channel, (m = new ChannelMessages()));
    return m;
  }

  private mentionsMe(text: string): boolean {
    return text.includes(`<@${this.me.user.id}>`) || /<!(here|channel|everyone)>/.test(text);
  }

  private isReading(channel: string): boolean {
    return this.current === channel && document.visibilityState === 'visible';
  }

  /** Opens a channel: view (typing goes to viewers), its newest page, and mark it read. */
  open(channel: string | null): void {
    if (this.current === channel) return;
    this.current = channel;
    const ch = channel ? this.channels.get(channel) : undefined;
    this.dividerAfter = ch && ch.unread > 0 ? ch.last_read : null;
    this.emit('view', { channel }).catch(() => undefined);
    if (channel) {
      const msgs = this.messagesOf(channel);
      if (msgs.olderCursor === null && !msgs.loading)
        this.loadOlder(channel)
          .then(() => this.markSoon(channel))
          .catch(() => undefined);
      else this.markSoon(channel);
    }
    this.changed();
  }

  /** The next older history page (the first one when nothing is loaded yet). */
  async loadOlder(channel: string): Promise<void> {
    const msgs = this.messagesOf(channel);
    if (msgs.loading || msgs.olderCursor === '') return;
    msgs.loading = true;
    try {
      const page = await api<{ messages: Message[]; response_metadata: { next_cursor: string } }>('conversations.history', {
        channel,
        limit: 100,
        ...(msgs.olderCursor ? { cursor: msgs.olderCursor } : {}),
      });
      msgs.addPage(page.messages, page.response_metadata.next_cursor);
      for (const m of page.messages) this.need(m.user);
    } finally {
      msgs.loading = false;
      this.changed();
    }
  }

  async openThread(channel: string, ts: string): Promise<void> {
    const msgs = this.messagesOf(channel);
    if (!msgs.threads.has(ts)) msgs.threads.set(ts, []);
    const res = await api<{ messages: Message[] }>('conversations.replies', { channel, ts, limit: 1000 });
    // Replies that arrived live while this was loading stay (merged by ts).
    const live = msgs.threads.get(ts) ?? [];
    msgs.threads.set(ts, res.messages.slice(1));
    for (const r of live) msgs.addReply(r, false);
    const parent = res.messages[0];
    if (parent) {
      if (msgs.get(parent.ts)) msgs.upsert(parent);
      this.need(parent.user);
    }
    for (const m of res.messages) this.need(m.user);
    msgs.version++;
    this.changed();
  }

  private markTimer = 0;
  /** Marks the newest message of the open channel read (once things settle). */
  markSoon(channel: string): void {
    clearTimeout(this.markTimer);
    this.markTimer = window.setTimeout(() => {
      const ch = this.channels.get(channel);
      const list = this.messagesOf(channel).list;
      let newest: string | undefined;
      for (let i = list.length - 1; i >= 0 && !newest; i--) if (!list[i].is_ephemeral) newest = list[i].ts;
      if (!ch || !newest || this.current !== channel) return;
      if (newest <= ch.last_read && ch.unread === 0) return;
      ch.last_read = newest;
      this.emit('mark', { channel, ts: newest }).catch(() => undefined);
    }, 250);
  }

  /** Looks up names of people not known yet (users.info, one request per person, once). */
  need(user: string): void {
    if (this.users.has(user) || this.pendingUsers.has(user) || !user.startsWith('U')) return;
    this.pendingUsers.add(user);
    api<{ user: { id: string; name: string; real_name?: string; profile?: { display_name?: string; real_name?: string } } }>('users.info', {
      user,
    })
      .then((r) => {
        this.users.set(user, { name: r.user.name, real_name: r.user.real_name ?? r.user.profile?.real_name });
        this.changed();
      })
      .catch(() => undefined)
      .finally(() => this.pendingUsers.delete(user));
  }

  displayName(user: string): string {
    const u = this.users.get(user);
    return u ? u.real_name || u.name : user;
  }

  /** Presence for exactly the people on screen (never the whole workspace). */
  private presenceUsers: string[] = [];
  watchPresence(users: string[]): void {
    this.presenceUsers = users;
    const key = [...new Set(users)].sort().slice(0, 500).join(',');
    if (key === this.presenceWanted || !this.socket?.connected) return;
    this.presenceWanted = key;
    this.emit('presence.subscribe', { users: key ? key.split(',') : [] })
      .then((ack) => {
        for (const [u, state] of Object.entries((ack.presence ?? {}) as Record<string, 'active' | 'away'>)) this.presence.set(u, state);
        this.changed();
      })
      .catch(() => (this.presenceWanted = ''));
  }

  typingIn(channel: string): string[] {
    const now = Date.now();
    return [...(this.typing.get(channel) ?? new Map<string, number>()).entries()].filter(([, until]) => until > now).map(([u]) => u);
  }

  private lastTyping = new Map<string, number>();
  /** At most one typing signal per channel every 3 s (the server throttles the same way). */
  sendTyping(channel: string): void {
    if (Date.now() - (this.lastTyping.get(channel) ?? 0) < 3000) return;
    this.lastTyping.set(channel, Date.now());
    this.emit('typing', { channel }).catch(() => undefined);
  }

  async createChannel(name: string): Promise<string> {
    const r = await api<{ channel: Record<string, unknown> }>('conversations.create', { name });
    this.addChannel(r.channel);
    return String(r.channel.id);
  }

  async joinChannel(id: string): Promise<void> {
    const r = await api<{ channel: Record<string, unknown> }>('conversations.join', { channel: id });
    this.addChannel(r.channel);
  }
}
