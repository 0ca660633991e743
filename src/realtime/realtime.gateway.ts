import { Inject, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { PostMessageArgs } from '../api/chat/chat.dto.js';
import { MarkArgs } from '../api/conversations/conversations.dto.js';
import { ChatService } from '../api/chat/chat.service.js';
import { ConversationsService } from '../api/conversations/conversations.service.js';
import { slackValidation } from '../api/slack-args.js';
import { enforce, signalPolicy } from '../domain/channel-policy.js';
import { SlackError } from '../domain/slack-error.js';
import { holdsNul, payloadProblem } from '../domain/payload.js';
import { SharedBudget } from '../rate-limit/shared-budget.js';
import { UnreadCountsRepository } from '../projections/unread/unread-counts.repository.js';
import { type Caller, WorkspacesService } from '../workspaces/workspaces.service.js';
import { Delivery } from './delivery.js';
import { EphemeralBus, type EphemeralSignal } from './ephemeral-bus.js';
import { isObject, parseChannel, parseChannels, parseCursors, parseUsers } from './payloads.js';
import { ChannelWatch } from './channel-watch.js';
import { Presence, type PresenceState } from './presence.js';
import { RealtimeRepository } from './realtime.repository.js';
import { Session } from './session.js';
import { expel, expireWith, handshakeCredential } from './socket-credentials.js';
import { Typing } from './typing.js';
import { UserChanges } from './user-changes.js';
import { Viewers } from './viewers.js';
import { ProfilesService } from '../workspaces/profiles.service.js';

/** Token ids per `revoked` signal: a NOTIFY payload must stay under 8,000 bytes. */
const REVOKED_PER_SIGNAL = 300;

/** Commands that show a person at the keyboard (a reconnect's `sync` does not). */
const USER_ACTIONS = new Set(['post', 'typing', 'view', 'mark']);

type Ack = { ok: true; [key: string]: unknown } | { ok: false; error: string; [key: string]: unknown };

interface SocketData {
  caller?: Caller;
  cursors?: Record<string, number>;
  hold?: boolean;
  session?: Session;
}

/**
 * The Socket.IO face of real-time delivery (DESIGN.md §3): authenticates the handshake, opens a
 * session per socket and maps client commands to services. It pushes and accepts; it holds no SQL.
 */
@WebSocketGateway()
export class RealtimeGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnApplicationShutdown {
  private readonly logger = new Logger(RealtimeGateway.name);
  /** Socket commands have their own per-token budget (shared by the nodes), the size of the REST one. */
  private readonly budget: SharedBudget;
  /** Browsers send it on every WebSocket handshake; a cookie handshake from any other origin is refused. */
  private readonly publicOrigin: string;

  constructor(
    private readonly workspaces: WorkspacesService,
    private readonly delivery: Delivery,
    private readonly typing: Typing,
    private readonly presence: Presence,
    private readonly bus: EphemeralBus,
    private readonly conversations: ConversationsService,
    private readonly chat: ChatService,
    private readonly repo: RealtimeRepository,
    private readonly unread: UnreadCountsRepository,
    private readonly userChanges: UserChanges,
    private readonly channelWatch: ChannelWatch,
    profiles: ProfilesService,
    private readonly viewers: Viewers,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.publicOrigin = new URL(config.PUBLIC_URL).origin;
    // users.getPresence (REST) asks the presence this layer tracks across nodes.
    profiles.setConnectionSource((user) => presence.connectedAnywhere(user));
    this.budget = new SharedBudget(config, `${config.JOBS_PREFIX}:ratelimit:socket`, config.RATE_LIMIT_PER_MINUTE);
    // A mark from any device (REST or socket) refreshes the counts on every socket of that user, on every node.
    conversations.onMarked((user, channel) => void bus.publish({ kind: 'counts', node: bus.nodeId, user, channel }));
    // A revocation made on this node reaches every node (this one included) through the bus.
    workspaces.onRevoked(async ({ user, tokens, reason }) => {
      for (let i = 0; i < tokens.length; i += REVOKED_PER_SIGNAL)
        await bus.publish({ kind: 'revoked', node: bus.nodeId, user, tokens: tokens.slice(i, i + REVOKED_PER_SIGNAL), reason });
    });
  }

  onApplicationShutdown(): void {
    this.budget.close();
  }

  afterInit(server: Server): void {
    this.delivery.bind(server);
    this.bus.subscribe((signal) => this.ephemeral(signal));
    // A missing or bad credential is refused in the handshake: the client gets connect_error, no socket.
    server.use((socket, next) => {
      const credential = handshakeCredential(socket, this.publicOrigin);
      if ('error' in credential) return next(new Error(credential.error));
      const auth: unknown = socket.handshake.auth;
      let cursors: Record<string, number> | undefined;
      if (isObject(auth) && auth.cursors !== undefined) {
        cursors = parseCursors(auth.cursors);
        if (!cursors) return next(new Error('invalid_cursors'));
      }
      // `sync: true`: the client sends `sync` first; nothing is delivered before it.
      const hold = isObject(auth) && auth.sync === true;
      this.workspaces.authenticate(credential.value, credential.kind).then(
        (caller) => {
          if (!caller) return next(new Error('invalid_auth'));
          if (!this.admitSocket(socket, caller.user.id, caller.tokenId)) return next(new Error('too_many_sockets'));
          Object.assign(socket.data as SocketData, { caller, cursors, hold });
          next();
        },
        () => next(new Error('internal_error')),
      );
    });
  }

  /** Open sockets on this node per user and per token (`u:` / `t:` keys), capped by SOCKETS_PER_USER / SOCKETS_PER_TOKEN. */
  private readonly openSockets = new Map<string, number>();

  private admitSocket(socket: Socket, user: string, token: string): boolean {
    const keys = [`u:${user}`, `t:${token}`];
    const caps = [this.config.SOCKETS_PER_USER, this.config.SOCKETS_PER_TOKEN];
    if (keys.some((key, i) => (this.openSockets.get(key) ?? 0) >= caps[i])) return false;
    for (const key of keys) this.openSockets.set(key, (this.openSockets.get(key) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const key of keys) {
        const left = (this.openSockets.get(key) ?? 1) - 1;
        if (left > 0) this.openSockets.set(key, left);
        else this.openSockets.delete(key);
      }
    };
    socket.once('disconnect', release);
    // A client gone while it was being authenticated never connects, so never disconnects: its
    // connection's close gives the place back (else each such drop would hold one for good).
    socket.conn.once('close', release);
    return true;
  }

  handleConnection(socket: Socket): void {
    const data = socket.data as SocketData;
    if (!data.caller) {
      socket.disconnect(true);
      return;
    }
    // Revoked while the handshake was being authenticated: the bus signal found no socket to drop.
    if (this.workspaces.wasRevoked(data.caller.tokenId)) return expel(socket, 'token_revoked');
    const session = new Session(socket, data.caller);
    data.session = session;
    expireWith(socket, data.caller);
    // One listener per socket instead of Nest's @SubscribeMessage binding, which builds an rxjs
    // pipeline per handler per socket: measured, that was a third of the memory of an idle connection.
    socket.onAny((event: string, ...args: unknown[]) => this.dispatch(socket, event, args));
    this.presence.connected(session);
    this.viewers.connected(session);
    const { cursors, hold } = data;
    data.cursors = undefined;
    this.delivery.open(session, cursors, hold).catch((err: Error) => {
      this.logger.warn(`socket init: ${err.message}`);
      socket.disconnect(true);
    });
  }

  handleDisconnect(socket: Socket): void {
    const session = (socket.data as SocketData).session;
    if (!session || session.closed) return;
    this.delivery.close(session);
    this.typing.forget(session);
    this.presence.unsubscribe(session);
    this.userChanges.forget(session);
    this.channelWatch.forget(session);
    this.presence.disconnected(session);
    this.viewers.disconnected(session);
  }

  /** `sync {cursors}`: backlog after each cursor, then live; acked once the backlog is written. */
  private sync(socket: Socket, body: unknown): Promise<Ack> {
    return this.command(socket, true, async (session) => {
      const cursors = isObject(body) ? parseCursors(body.cursors) : undefined;
      if (!cursors) throw new SlackError('invalid_arguments');
      const notMember = await this.delivery.sync(session, cursors);
      return notMember.length ? { not_in_channel: notMember } : {};
    });
  }

  /** `post {channel, text, client_msg_id, thread_ts?}`: chat.postMessage's rules and error codes. */
  private post(socket: Socket, body: unknown): Promise<Ack> {
    return this.command(socket, false, async (session) => {
      if (!isObject(body) || holdsNul(body, 4)) throw new SlackError('invalid_arguments');
      const args = (await slackValidation.transform(body, { type: 'body', metatype: PostMessageArgs })) as PostMessageArgs;
      const { channel, ts, seq } = await this.chat.postMessage(session.caller, args);
      return { channel, ts, seq };
    });
  }

  /** `typing {channel}`: to sockets viewing the channel, at most once per throttle window. */
  private typed(socket: Socket, body: unknown): Promise<Ack> {
    return this.command(socket, true, async (session) => {
      const channel = this.memberChannel(session, body);
      return { sent: this.typing.typed(session, channel) };
    });
  }

  /** `view {channel}` (or `{channel: null}`): which channel this socket shows, for typing signals. */
  private view(socket: Socket, body: unknown): Promise<Ack> {
    return this.command(socket, true, async (session) => {
      const channel = isObject(body) && body.channel === null ? undefined : this.memberChannel(session, body);
      this.typing.view(session, channel);
      // Notifications skip whoever looks at the channel: recorded before the ack.
      await this.viewers.viewed(session, channel);
      return {};
    });
  }

  /** `presence.subscribe {users}`: replaces the socket's subscriptions; the ack carries current states. */
  private subscribe(socket: Socket, body: unknown): Promise<Ack> {
    return this.command(socket, true, async (session) => {
      const users = isObject(body) ? parseUsers(body.users) : undefined;
      if (!users) throw new SlackError('invalid_arguments');
      const known = await this.repo.usersInWorkspace(session.caller.workspace, users);
      const presence: Record<string, PresenceState> = this.presence.subscribe(session, known);
      return { presence };
    });
  }

  /** `users.subscribe {users}`: replaces the users whose `user_change` this socket gets. */
  private subscribeUsers(socket: Socket, body: unknown): Promise<Ack> {
    return this.command(socket, true, async (session) => {
      const users = isObject(body) ? parseUsers(body.users) : undefined;
      if (!users) throw new SlackError('invalid_arguments');
      const known = await this.repo.usersInWorkspace(session.caller.workspace, users);
      this.userChanges.subscribe(session, known);
      return { users: known };
    });
  }

  /**
   * `channels.subscribe {channels}`: replaces the channels whose metadata events (rename, topic,
   * purpose, archive, unarchive) this socket gets as `channel_changed`. Only public channels of the
   * caller's workspace are kept (members of a private channel get its events as `event`).
   */
  private subscribeChannels(socket: Socket, body: unknown): Promise<Ack> {
    return this.command(socket, true, async (session) => {
      const channels = isObject(body) ? parseChannels(body.channels) : undefined;
      if (!channels) throw new SlackError('invalid_arguments');
      const heads = await this.repo.publicHeads(session.caller.workspace, channels);
      this.channelWatch.subscribe(session, heads);
      return { channels: channels.filter((c) => heads.has(c)) };
    });
  }

  /** `mark {channel, ts}`: conversations.mark. */
  private mark(socket: Socket, body: unknown): Promise<Ack> {
    return this.command(socket, false, async (session) => {
      if (!isObject(body) || holdsNul(body, 4)) throw new SlackError('invalid_arguments');
      const args = (await slackValidation.transform(body, { type: 'body', metatype: MarkArgs })) as MarkArgs;
      await this.conversations.mark(session.caller, args);
      return {};
    });
  }

  private dispatch(socket: Socket, event: string, args: unknown[]): void {
    const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (reply: Ack) => void) : undefined;
    const command = Object.hasOwn(this.commands, event) ? this.commands[event] : undefined;
    const session = (socket.data as SocketData).session;
    if (command && session && USER_ACTIONS.has(event)) this.presence.activity(session);
    // Unknown commands and malformed payloads (too deep, lone surrogates) spend the budget like any command.
    const refuse = !command ? 'unknown_command' : payloadProblem(args[0]) ? 'invalid_arguments' : undefined;
    const reply = refuse ? this.command(socket, false, () => Promise.reject(new SlackError(refuse))) : command!(socket, args[0]);
    void reply.then((r) => ack?.(r));
  }

  private readonly commands: Record<string, (socket: Socket, body: unknown) => Promise<Ack>> = {
    sync: (s, b) => this.sync(s, b),
    post: (s, b) => this.post(s, b),
    typing: (s, b) => this.typed(s, b),
    view: (s, b) => this.view(s, b),
    'presence.subscribe': (s, b) => this.subscribe(s, b),
    'users.subscribe': (s, b) => this.subscribeUsers(s, b),
    'channels.subscribe': (s, b) => this.subscribeChannels(s, b),
    mark: (s, b) => this.mark(s, b),
  };

  private memberChannel(session: Session, body: unknown): string {
    const channel = isObject(body) ? parseChannel(body.channel) : undefined;
    if (!channel) throw new SlackError('invalid_arguments');
    enforce(signalPolicy(session.isMember(channel)));
    return channel;
  }

  /**
   * Runs a command and turns its outcome into an ack. Commands that depend on the socket's channels
   * wait for its initialization (they run in its queue); failures never reach the client as a trace.
   */
  private async command(socket: Socket, ordered: boolean, work: (session: Session) => Promise<Record<string, unknown>>): Promise<Ack> {
    const session = (socket.data as SocketData).session;
    if (!session) return { ok: false, error: 'not_authed' };
    const retryAfter = await this.budget.consume(session.caller.tokenId).catch(() => -1);
    if (retryAfter === -1) return { ok: false, error: 'internal_error' };
    if (retryAfter !== undefined) return { ok: false, error: 'ratelimited', retry_after: retryAfter };
    // The credential is checked when the command's turn comes (after the budget, in the socket's
    // queue for ordered commands), so a command still queued when its credential is revoked never
    // runs, even before the bus signal has disconnected the socket.
    const checked = async () => {
      const revoked = await this.workspaces.revokedReason(session.caller);
      if (revoked) {
        expel(socket, revoked);
        throw new SlackError('invalid_auth');
      }
      return work(session);
    };
    try {
      const result = ordered ? await session.run(checked) : await checked();
      return { ok: true, ...result };
    } catch (err) {
      if (err instanceof SlackError) return { ok: false, error: err.code };
      this.logger.error(`socket command failed: ${(err as Error).message}`);
      return { ok: false, error: 'internal_error' };
    }
  }

  /** `counts {channel, unread_count, mention_count}` to this node's sockets of `user` (after a mark from any device). */
  private async pushCounts(user: string, channel: string): Promise<void> {
    const sessions = [...this.delivery.sessionsOf(user)];
    if (!sessions.length) return;
    const counts = await this.unread.forChannel(user, channel).catch(() => undefined);
    if (!counts) return;
    const payload = { channel, unread_count: counts.unread, mention_count: counts.mentions };
    for (const session of sessions) session.socket.emit('counts', payload);
  }

  /** This node's sockets of revoked credentials get `revoked` and are disconnected; the token cache forgets them. */
  private revoked(user: string, tokens: string[], reason: string): void {
    this.workspaces.forget(tokens);
    const ids = new Set(tokens);
    for (const session of [...this.delivery.sessionsOf(user)]) if (ids.has(session.caller.tokenId)) expel(session.socket, reason);
  }

  /** Counts, revocations, typing and presence from any node, this one's own included (typing and presence were applied when sent). */
  private ephemeral(signal: EphemeralSignal): void {
    if (signal.kind === 'counts') {
      void this.pushCounts(signal.user, signal.channel);
      return;
    }
    if (signal.kind === 'revoked') {
      this.revoked(signal.user, signal.tokens, signal.reason);
      return;
    }
    // Sent by ProfilesService (any node, or a worker): handled by every node, this one included.
    if (signal.kind === 'user_change') {
      void this.userChanges.changed(signal.user);
      return;
    }
    if (signal.kind === 'manual_presence') {
      this.presence.setManualAway(signal.user, signal.away);
      return;
    }
    if (signal.kind === 'ephemeral_message') return; // EphemeralDeliveries delivers these
    if (signal.node === this.bus.nodeId) return;
    if (signal.kind === 'typing') this.typing.deliver(signal.channel, signal.user);
    else if (signal.kind === 'presence') this.presence.apply(signal.node, signal.user, signal.presence);
    else this.presence.heard(signal.node, signal.users);
  }
}
