import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import type { Queryable } from '../../db/database.js';
import { PG_POOL } from '../../db/database.module.js';

export type NotifyLevel = 'all' | 'mentions' | 'nothing';

/** What one message asks of the decision (from its text and its thread). */
export interface NotifyMessage {
  channel: string;
  author: string;
  /** Users named by `<@U…>`. */
  mentioned: string[];
  /** `<!channel>` / `<!everyone>`: every member is addressed (so is every member of a DM or group DM). */
  everyone: boolean;
  /** `<!here>`: every member who is active now. */
  here: boolean;
  /** A thread reply: its parent's ts in microseconds (the thread's participants are addressed). */
  parent?: bigint;
  /** A reply also sent to the channel: counts as top level for the `all` level. */
  broadcast?: boolean;
}

export interface Recipient {
  subscription: string;
  user: string;
}

export interface PushSubscriptionRow {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** The message as a notification shows it. */
export interface NotifiedMessage {
  channel_name: string;
  kind: 'channel' | 'im' | 'mpim';
  workspace_id: string;
  author: string;
  text: string | null;
  deleted: boolean;
  ts: string;
  thread_ts: string | null;
  /** The workspace uses EKM (or the body is sealed): the notification carries no text. */
  ekm: boolean;
}

/** A viewer row counts this long past its last refresh (three presence heartbeats). */
const ACTIVE = `now() + make_interval(secs => $1::float8 / 1000)`;

/**
 * Notification state: devices (push subscriptions), per-user preferences, who views which channel,
 * and the one query that decides who is told about a message. SQL lives only here.
 */
@Injectable()
export class NotifyRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /**
   * Who is told about each message of a batch, one row per device, in one statement whatever the
   * batch or the member count (result i belongs to message i). Candidates come from the members
   * (all of them only for a DM, `<!channel>` or `<!here>`; otherwise the mentioned, the thread's
   * participants and the members whose level is `all` here or in the workspace), then: not the
   * author, not a deleted user, not muted, the level allows it (channel row, else workspace row,
   * else `mentions`), `<!here>` reaches only users active now (a live socket on some node, not set
   * away), and nobody who is looking at this channel now.
   */
  async recipients(db: Queryable, messages: NotifyMessage[]): Promise<Recipient[][]> {
    if (!messages.length) return [];
    const mentions = messages.flatMap((m, i) => m.mentioned.map((user) => ({ i, user })));
    const { rows } = await db.query<{ i: number; id: string; user_id: string }>(
      `WITH msg AS (
         SELECT m.i, m.channel_id, m.author, m.here, m.parent,
                (m.everyone OR c.kind IN ('im', 'mpim')) AS everyone,
                (m.parent IS NULL OR m.broadcast) AS top_level
           FROM unnest($1::int[], $2::text[], $3::text[], $4::bool[], $5::bool[], $6::bigint[], $7::bool[])
                  AS m(i, channel_id, author, everyone, here, parent, broadcast)
           JOIN channels c ON c.id = m.channel_id
       ), direct AS (
         SELECT x.i, x.user_id FROM unnest($8::int[], $9::text[]) AS x(i, user_id)
         UNION
         SELECT msg.i, t.user_id FROM msg
           JOIN messages t ON t.channel_id = msg.channel_id AND (t.ts = msg.parent OR t.thread_ts = msg.parent) AND NOT t.deleted
       ), all_level AS (
         SELECT DISTINCT user_id FROM notify_prefs
          WHERE level = 'all' AND (channel_id = '' OR channel_id IN (SELECT channel_id FROM msg))
       ), cand AS (
         SELECT msg.i, msg.channel_id, m.user_id, msg.here, msg.top_level, (msg.everyone OR d.user_id IS NOT NULL) AS direct
           FROM msg
           JOIN channel_members m ON m.channel_id = msg.channel_id AND m.user_id <> msg.author
           LEFT JOIN direct d ON d.i = msg.i AND d.user_id = m.user_id
          WHERE msg.everyone OR msg.here OR d.user_id IS NOT NULL
             OR (msg.top_level AND m.user_id IN (SELECT user_id FROM all_level))
       ), live AS (
         SELECT c.i, c.user_id, c.direct, c.top_level,
                coalesce(cp.level, wp.level, 'mentions') AS level,
                (c.here AND NOT u.manual_away AND EXISTS (
                   SELECT 1 FROM notify_viewers v WHERE v.user_id = c.user_id AND v.active_until > now())) AS here
           FROM cand c
           JOIN users u ON u.id = c.user_id AND NOT u.deleted
           LEFT JOIN notify_prefs cp ON cp.user_id = c.user_id AND cp.channel_id = c.channel_id
           LEFT JOIN notify_prefs wp ON wp.user_id = c.user_id AND wp.channel_id = ''
          WHERE NOT coalesce(cp.muted, false)
            AND NOT EXISTS (SELECT 1 FROM notify_viewers v
                             WHERE v.user_id = c.user_id AND v.channel_id = c.channel_id AND v.active_until > now())
       )
       SELECT l.i, s.id::text, l.user_id
         FROM live l JOIN push_subscriptions s ON s.user_id = l.user_id
        WHERE CASE l.level WHEN 'nothing' THEN false
                           WHEN 'all' THEN l.direct OR l.here OR l.top_level
                           ELSE l.direct OR l.here END
        ORDER BY l.i, s.id`,
      [
        messages.map((_, i) => i),
        messages.map((m) => m.channel),
        messages.map((m) => m.author),
        messages.map((m) => m.everyone),
        messages.map((m) => m.here),
        messages.map((m) => m.parent?.toString() ?? null),
        messages.map((m) => !!m.broadcast),
        mentions.map((x) => x.i),
        mentions.map((x) => x.user),
      ],
    );
    const out: Recipient[][] = messages.map(() => []);
    for (const r of rows) out[r.i].push({ subscription: r.id, user: r.user_id });
    return out;
  }

  async message(channel: string, seq: number): Promise<NotifiedMessage | undefined> {
    const { rows } = await this.pool.query<NotifiedMessage>(
      `SELECT c.name AS channel_name, c.kind, c.workspace_id, m.text, m.deleted, m.ts::text, m.thread_ts::text,
              coalesce(nullif(u.display_name, ''), nullif(u.real_name, ''), u.name) AS author,
              (m.body_enc IS NOT NULL OR EXISTS (SELECT 1 FROM ekm_workspaces e WHERE e.workspace_id = c.workspace_id)) AS ekm
         FROM messages m JOIN channels c ON c.id = m.channel_id JOIN users u ON u.id = m.user_id
        WHERE m.channel_id = $1 AND m.seq = $2`,
      [channel, seq],
    );
    return rows[0];
  }

  // --- devices ---

  async subscription(id: string): Promise<PushSubscriptionRow | undefined> {
    const { rows } = await this.pool.query<PushSubscriptionRow>(
      'SELECT id::text, user_id, endpoint, p256dh, auth FROM push_subscriptions WHERE id = $1',
      [id],
    );
    return rows[0];
  }

  /** Registers a device for `user` (a device already registered moves to it); keeps at most `keep` devices per user. */
  async subscribe(user: string, s: { endpoint: string; p256dh: string; auth: string }, keep: number): Promise<void> {
    await this.pool.query(
      `WITH upsert AS (
         INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)
         ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, created_at = now()
         RETURNING id)
       DELETE FROM push_subscriptions WHERE user_id = $1 AND id NOT IN (SELECT id FROM upsert)
         AND id NOT IN (SELECT id FROM push_subscriptions WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $5)`,
      [user, s.endpoint, s.p256dh, s.auth, keep - 1],
    );
  }

  async unsubscribe(user: string, endpoint: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2', [user, endpoint]);
    return !!rowCount;
  }

  async removeSubscription(id: string): Promise<void> {
    await this.pool.query('DELETE FROM push_subscriptions WHERE id = $1', [id]);
  }

  async subscriptionCount(user: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM push_subscriptions WHERE user_id = $1', [user]);
    return rows[0].n;
  }

  // --- preferences ---

  /** Whether `channel` is a channel of `workspace` the user may see, and whether the user is in it. */
  async membership(workspace: string, user: string, channel: string): Promise<{ visible: boolean; member: boolean }> {
    const { rows } = await this.pool.query<{ is_private: boolean; member: boolean }>(
      `SELECT c.is_private, EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = $3) AS member
         FROM channels c WHERE c.id = $2 AND c.workspace_id = $1`,
      [workspace, channel, user],
    );
    const row = rows[0];
    return { visible: !!row && (!row.is_private || row.member), member: !!row?.member };
  }

  async prefs(user: string): Promise<Array<{ channel_id: string; level: NotifyLevel | null; muted: boolean }>> {
    const { rows } = await this.pool.query<{ channel_id: string; level: NotifyLevel | null; muted: boolean }>(
      'SELECT channel_id, level, muted FROM notify_prefs WHERE user_id = $1 ORDER BY channel_id',
      [user],
    );
    return rows;
  }

  async setWorkspaceLevel(user: string, level: NotifyLevel): Promise<void> {
    await this.pool.query(
      `INSERT INTO notify_prefs (user_id, channel_id, level) VALUES ($1, '', $2)
       ON CONFLICT (user_id, channel_id) DO UPDATE SET level = excluded.level, updated_at = now()`,
      [user, level],
    );
  }

  /** A channel's override: `level` undefined keeps it, null follows the workspace; a row back at the defaults is removed. */
  async setChannel(user: string, channel: string, change: { level?: NotifyLevel | null; muted?: boolean }): Promise<void> {
    await this.pool.query(
      `INSERT INTO notify_prefs (user_id, channel_id, level, muted) VALUES ($1, $2, $3, coalesce($5, false))
       ON CONFLICT (user_id, channel_id) DO UPDATE SET
         level = CASE WHEN $4 THEN excluded.level ELSE notify_prefs.level END,
         muted = coalesce($5, notify_prefs.muted), updated_at = now()`,
      [user, channel, change.level ?? null, change.level !== undefined, change.muted ?? null],
    );
    await this.pool.query(`DELETE FROM notify_prefs WHERE user_id = $1 AND channel_id = $2 AND level IS NULL AND NOT muted`, [
      user,
      channel,
    ]);
  }

  // --- who views what (written by the realtime layer of every node) ---

  /** Upserts sockets: what each shows (null: nothing) and that it is active for `ttlMs` more. */
  async showViewers(node: string, rows: Array<{ socket: string; user: string; channel: string | null }>, ttlMs: number): Promise<void> {
    if (!rows.length) return;
    await this.pool.query(
      `INSERT INTO notify_viewers (node, socket, user_id, channel_id, active_until)
       SELECT $2, v.socket, v.user_id, v.channel_id, ${ACTIVE}
         FROM unnest($3::text[], $4::text[], $5::text[]) AS v(socket, user_id, channel_id)
       ON CONFLICT (node, socket) DO UPDATE SET channel_id = excluded.channel_id, active_until = excluded.active_until`,
      [ttlMs, node, rows.map((r) => r.socket), rows.map((r) => r.user), rows.map((r) => r.channel)],
    );
  }

  /** Rows that stopped counting long ago (sockets of a node that died, idle sockets) go. */
  async purgeViewers(): Promise<void> {
    await this.pool.query(`DELETE FROM notify_viewers WHERE active_until < now() - interval '10 minutes'`);
  }

  async removeViewers(node: string, sockets: string[]): Promise<void> {
    if (sockets.length) await this.pool.query('DELETE FROM notify_viewers WHERE node = $1 AND socket = ANY($2::text[])', [node, sockets]);
  }
}
