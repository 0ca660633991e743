import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import pg from 'pg';
import { CONFIG, type Config } from '../../config/config.js';
import { KeyServiceUnavailable } from '../../crypto/key-provider.js';
import { EventStore } from '../../event-store/event-store.js';
import { formatCursor, type GlobalCursor, parseCursor } from '../../event-store/events.js';
import { inTransaction } from '../../db/database.js';
import { EVENTS_NOTIFY_CHANNEL } from '../../event-store/fanout-hint.js';
import { AppStream, checkpointName, type StreamContext } from './app-stream.js';
import { type AppRow, AppsRepository } from './apps.repository.js';
import type { ChannelFacts } from './event-payloads.js';
import { SocketModeHub } from './socket-mode-hub.js';

const LEASE_KEY = (app: string) => `atomcast:app-events:${app}`;
const REFRESH_MS = 5000;
/**
 * Checkpoints are saved once a second, all apps in one statement, without waiting for the WAL flush:
 * a checkpoint lost in a crash only means those events are delivered again (at-least-once, stable
 * event ids), and a commit per app per tick would compete with posting for fsyncs.
 */
const FLUSH_MS = 1000;

/**
 * Runs the Events API delivery stream of every installed app (APPS_DELIVERY_ENABLED). Each stream
 * is a checkpointed consumer of the global log of its own (checkpoint `app:<id>` in `checkpoints`),
 * not a projection: delivery is slow, fails and pauses per app, so one app's stuck URL must not
 * hold back the others or the read models. One node leads each app (a session advisory lock on
 * this node's dedicated connection); a node takes a Socket Mode-only app only while the app has a
 * connection to it. Streams wake on each local commit, on the log's NOTIFY, and every APPS_POLL_MS.
 */
@Injectable()
export class AppStreamsService implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly log = new Logger('AppEvents');
  private readonly streams = new Map<string, AppStream>();
  private readonly leading = new Set<string>();
  /** Per app: events a stopped stream sent without an ack, so the next stream marks their resend as a retry. */
  private readonly unacked = new Map<string, Map<string, number>>();
  private readonly facts = new Map<string, ChannelFacts>();
  private readonly bots = new Map<string, string | null>();
  private client: pg.Client | undefined;
  private timers: NodeJS.Timeout[] = [];
  private started = false;
  private readonly ctx: StreamContext;
  /** Tests and the benchmark listen to deliveries here (event ids as they are acknowledged). */
  readonly delivered: ((app: string, eventId: string) => void)[] = [];

  constructor(
    private readonly repo: AppsRepository,
    private readonly store: EventStore,
    private readonly hub: SocketModeHub,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.ctx = {
      store,
      readGlobal: (cursor, limit) => this.readGlobal(cursor, limit),
      hub,
      policy: { allowLoopback: config.APPS_ALLOW_LOOPBACK, allowPrivate: config.APPS_ALLOW_PRIVATE },
      httpTimeoutMs: config.APPS_HTTP_TIMEOUT_MS,
      retryBackoffMs: config.APPS_RETRY_BACKOFF_MS,
      ackTimeoutMs: config.APPS_SOCKET_ACK_TIMEOUT_MS,
      channelFacts: (ids) => this.channelFacts(ids),
      botIds: (users) => this.botIds(users),
      memberships: (user) => repo.memberships(user),
      saveCheckpoint: (app, cursor) => store.storeCheckpoint(repo.pool, checkpointName(app), cursor),
      pause: async (app, reason) => {
        this.log.warn(`app ${app} paused: ${reason}`);
        await repo.pause(app, reason);
      },
      onDelivered: (app, eventId) => this.delivered.forEach((l) => l(app, eventId)),
      // A key service that fails holds the stream back (BodyOpener); BodyCipher logs that once, not per pass.
      onError: (app, err) => {
        if (!(err instanceof KeyServiceUnavailable)) this.log.warn(`app ${app}: ${err instanceof Error ? err.message : String(err)}`);
      },
    };
    hub.onChange((appId, conn, open) => {
      if (!open) this.streams.get(appId)?.connectionClosed(conn.id);
      void this.refresh(appId);
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.APPS_DELIVERY_ENABLED) return;
    this.started = true;
    this.store.onAppended(() => this.wakeAll());
    this.timers.push(setInterval(() => this.wakeAll(), this.config.APPS_POLL_MS));
    this.timers.push(setInterval(() => void this.flushAll(), FLUSH_MS));
    this.timers.push(setInterval(() => void this.refreshAll(), REFRESH_MS));
    for (const t of this.timers) t.unref();
    void this.refreshAll();
  }

  onApplicationShutdown(): void {
    this.hub.closeAll('server_shutting_down'); // apps reconnect to another node
  }

  async onModuleDestroy(): Promise<void> {
    this.started = false;
    for (const t of this.timers) clearInterval(t);
    await Promise.all([...this.streams.values()].map((s) => s.stop().catch(() => {})));
    this.streams.clear();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  /** Reloads one app (installed, changed, resumed, a connection came or went) and starts or stops its stream. */
  async refresh(appId: string): Promise<void> {
    if (!this.started) return;
    const app = await this.repo.findById(appId);
    await this.adopt(appId, app).catch((err: unknown) => this.ctx.onError(appId, err));
  }

  /** Saves every stream's checkpoint that moved, in one transaction. */
  async flushAll(): Promise<void> {
    const pending = [...this.streams.values()].flatMap((s) => {
      const cursor = s.pendingCheckpoint();
      return cursor ? [{ stream: s, cursor, parsed: parseCursor(cursor)! }] : [];
    });
    if (!pending.length) return;
    try {
      await inTransaction(this.repo.pool, async (db) => {
        await db.query('SET LOCAL synchronous_commit = off');
        await db.query(
          `INSERT INTO checkpoints (name, tx_id, position)
           SELECT n, t::xid8, p FROM unnest($1::text[], $2::text[], $3::bigint[]) AS c(n, t, p)
           ON CONFLICT (name) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position, updated_at = now()`,
          [pending.map((p) => checkpointName(p.stream.id)), pending.map((p) => p.parsed.txId), pending.map((p) => p.parsed.position)],
        );
      });
      for (const p of pending) p.stream.markSaved(p.cursor);
    } catch (err) {
      this.log.warn(`checkpoints: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private wakeAll(): void {
    for (const s of this.streams.values()) s.wake();
  }

  private async refreshAll(): Promise<void> {
    if (!this.started) return;
    try {
      const apps = await this.repo.listInstalled();
      const ids = new Set(apps.map((a) => a.id));
      for (const app of apps) await this.adopt(app.id, app);
      for (const id of this.streams.keys()) if (!ids.has(id)) await this.adopt(id, undefined);
    } catch (err) {
      this.log.warn(`refresh: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private readonly adopting = new Map<string, Promise<void>>();

  /** One adoption per app at a time (a refresh and a connection change may race). */
  private adopt(appId: string, app: AppRow | undefined): Promise<void> {
    const run = (this.adopting.get(appId) ?? Promise.resolve()).catch(() => {}).then(() => this.adoptNow(appId, app));
    this.adopting.set(appId, run);
    void run
      .finally(() => {
        if (this.adopting.get(appId) === run) this.adopting.delete(appId);
      })
      .catch(() => {});
    return run;
  }

  private async adoptNow(appId: string, app: AppRow | undefined): Promise<void> {
    const wanted = app && !app.uninstalled_at && (app.request_url || this.hub.connections(appId).length > 0);
    const stream = this.streams.get(appId);
    if (wanted && (await this.lead(appId))) {
      if (stream) stream.update(app);
      else {
        const s = new AppStream(app, this.ctx, this.unacked.get(appId));
        this.unacked.delete(appId);
        this.streams.set(appId, s);
        s.wake();
      }
    } else if (stream && !wanted) {
      this.streams.delete(appId);
      this.unacked.set(appId, stream.unacknowledged());
      await stream.stop();
      await this.release(appId);
    } else if (stream && app) stream.update(app);
  }

  private async lead(appId: string): Promise<boolean> {
    if (this.leading.has(appId)) return true;
    const client = await this.connection();
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [LEASE_KEY(appId)]);
    if (rows[0].ok) this.leading.add(appId);
    return rows[0].ok;
  }

  private async release(appId: string): Promise<void> {
    if (!this.leading.delete(appId) || !this.client) return;
    await this.client.query('SELECT pg_advisory_unlock(hashtext($1))', [LEASE_KEY(appId)]).catch(() => {});
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.config.DATABASE_URL, application_name: 'app-events' });
    client.on('error', (err) => {
      // The locks went with the connection: stop every stream; the next refresh competes again.
      if (this.client !== client) return;
      this.client = undefined;
      this.leading.clear();
      for (const s of this.streams.values()) void s.stop();
      this.streams.clear();
      this.log.warn(`lease connection: ${err.message}`);
    });
    client.on('notification', () => this.wakeAll());
    await client.connect();
    await client.query(`LISTEN ${EVENTS_NOTIFY_CHANNEL}`);
    this.client = client;
    return client;
  }

  private readonly reading = new Map<string, ReturnType<EventStore['readGlobal']>>();

  /**
   * Streams that are caught up sit at the same position and wake together on each commit: they
   * share one read of the log while it is in flight (nothing is kept after it answers, so a later
   * read always sees newly committed events).
   */
  private readGlobal(cursor: GlobalCursor, limit: number): ReturnType<EventStore['readGlobal']> {
    const key = `${formatCursor(cursor)}/${limit}`;
    const running = this.reading.get(key);
    if (running) return running;
    const read = this.store.readGlobal(cursor, limit).finally(() => this.reading.delete(key));
    this.reading.set(key, read);
    return read;
  }

  private async channelFacts(ids: string[]): Promise<Map<string, ChannelFacts>> {
    const missing = ids.filter((id) => !this.facts.has(id));
    if (missing.length) {
      for (const r of await this.repo.channelFacts(missing)) {
        this.facts.set(r.id, { workspace: r.workspace_id, isPrivate: r.is_private, kind: r.kind });
      }
    }
    const out = new Map<string, ChannelFacts>();
    for (const id of ids) {
      const f = this.facts.get(id);
      if (f) out.set(id, f);
    }
    return out;
  }

  private async botIds(users: string[]): Promise<Map<string, string>> {
    const missing = users.filter((u) => !this.bots.has(u));
    if (missing.length) {
      const found = await this.repo.botIds(missing);
      for (const u of missing) this.bots.set(u, found.get(u) ?? null);
    }
    const out = new Map<string, string>();
    for (const u of users) {
      const b = this.bots.get(u);
      if (b) out.set(u, b);
    }
    return out;
  }
}
