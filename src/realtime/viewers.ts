import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { NotifyRepository } from '../jobs/notify/notify.repository.js';
import { EphemeralBus } from './ephemeral-bus.js';
import type { Session } from './session.js';

/** Connects and disconnects are written in batches this often (a `view` is written at once). */
const FLUSH_MS = 200;

/**
 * Tells the notification consumer, which may run on another node, who is active and which channel
 * each socket shows: one row per socket in `notify_viewers` (PostgreSQL, where the consumer's
 * decision query can join it). A `view` is written before it is acked, so a message posted after
 * the ack is not notified to the viewer. Connects and disconnects go in batches; every presence
 * heartbeat rewrites the rows of sockets whose user did something within PRESENCE_IDLE_MS, so an
 * idle tab, or every socket of a node that died, stops counting within three heartbeats.
 */
@Injectable()
export class Viewers implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('Viewers');
  private readonly sessions = new Map<string, Session>();
  /** Sockets to write (connected) or to delete (null) at the next flush. */
  private readonly pending = new Map<string, Session | null>();
  private flusher: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repo: NotifyRepository,
    private readonly bus: EphemeralBus,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private get enabled(): boolean {
    return !!this.config.VAPID_PUBLIC_KEY;
  }

  private get ttl(): number {
    return 3 * this.config.PRESENCE_HEARTBEAT_MS;
  }

  onModuleInit(): void {
    if (!this.enabled) return;
    this.flusher = setInterval(() => void this.flush(), FLUSH_MS);
    this.flusher.unref();
    this.heartbeat = setInterval(() => void this.beat(), this.config.PRESENCE_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  connected(session: Session): void {
    if (!this.enabled) return;
    this.sessions.set(session.socket.id, session);
    this.pending.set(session.socket.id, session);
  }

  disconnected(session: Session): void {
    if (!this.enabled || !this.sessions.delete(session.socket.id)) return;
    this.pending.set(session.socket.id, null);
  }

  /** The socket now shows `channel` (undefined: none); written before the caller acks. */
  async viewed(session: Session, channel: string | undefined): Promise<void> {
    if (!this.enabled || !this.sessions.has(session.socket.id)) return;
    this.pending.delete(session.socket.id);
    await this.write(() =>
      this.repo.showViewers(this.bus.nodeId, [{ socket: session.socket.id, user: session.user, channel: channel ?? null }], this.ttl),
    );
  }

  private async flush(): Promise<void> {
    if (!this.pending.size) return;
    const batch = [...this.pending];
    this.pending.clear();
    const shown = batch.filter((e): e is [string, Session] => e[1] !== null);
    const gone = batch.filter(([, s]) => s === null).map(([id]) => id);
    await this.write(async () => {
      await this.repo.showViewers(
        this.bus.nodeId,
        shown.map(([id, s]) => ({ socket: id, user: s.user, channel: s.viewing ?? null })),
        this.ttl,
      );
      await this.repo.removeViewers(this.bus.nodeId, gone);
    });
  }

  /**
   * Rewrites the rows of sockets whose user did something lately (an upsert, so a socket that was
   * idle long enough for its row to be purged counts again once its user is back).
   */
  private async beat(): Promise<void> {
    const limit = Date.now() - this.config.PRESENCE_IDLE_MS;
    const busy = [...this.sessions.values()].filter((s) => s.lastActive > limit);
    await this.write(async () => {
      await this.repo.showViewers(
        this.bus.nodeId,
        busy.map((s) => ({ socket: s.socket.id, user: s.user, channel: s.viewing ?? null })),
        this.ttl,
      );
      await this.repo.purgeViewers();
    });
  }

  /** One write at a time, in order (a disconnect's delete never overtakes its connect's insert). */
  private write(work: () => Promise<unknown>): Promise<void> {
    const next = this.writing.then(work).then(
      () => undefined,
      (err: Error) => this.log.debug(`viewers not written: ${err.message}`),
    );
    this.writing = next;
    return next;
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.flusher);
    clearInterval(this.heartbeat);
    // A node that stops cleanly takes its sockets' rows with it (a crash leaves them to expire).
    const mine = [...this.sessions.keys()];
    this.sessions.clear();
    this.pending.clear();
    await this.write(() => this.repo.removeViewers(this.bus.nodeId, mine));
  }
}
