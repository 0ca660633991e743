import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import { inTransaction, type Queryable } from '../../db/database.js';

/** An installed app as the database keeps it (the signing secret included: only services read it). */
export interface AppRow {
  id: string;
  workspace_id: string;
  name: string;
  bot_user_id: string;
  bot_id: string;
  signing_secret: string;
  event_subscriptions: string[];
  request_url: string | null;
  interactivity_url: string | null;
  paused_at: Date | null;
  paused_reason: string | null;
  created_at: Date;
  uninstalled_at: Date | null;
}

const APP_COLUMNS = `a.id, a.workspace_id, a.name, a.bot_user_id, u.bot_id, a.signing_secret, a.event_subscriptions, a.request_url,
  a.interactivity_url, a.paused_at, a.paused_reason, a.created_at, a.uninstalled_at`;

export interface NewCredential {
  id: string;
  secretHash: Buffer;
}

/** SQL of apps, their credentials (in `tokens`), incoming webhooks and response URLs. */
@Injectable()
export class AppsRepository {
  constructor(@Inject(PG_POOL) readonly pool: pg.Pool) {}

  /** The bot user, the app and its two tokens in one transaction; undefined when the bot's name is taken. */
  async install(app: {
    id: string;
    workspace: string;
    name: string;
    botUserId: string;
    botId: string;
    botName: string;
    signingSecret: string;
    events: string[];
    requestUrl: string | null;
    interactivityUrl: string | null;
    botToken: NewCredential;
    appToken: NewCredential;
  }): Promise<AppRow | undefined> {
    return inTransaction(this.pool, async (db) => {
      const user = await db.query(
        `INSERT INTO users (id, workspace_id, name, real_name, role, bot_id) VALUES ($1, $2, $3, $4, 'member', $5)
         ON CONFLICT DO NOTHING RETURNING id`,
        [app.botUserId, app.workspace, app.botName, app.name, app.botId],
      );
      if (!user.rowCount) return undefined;
      await db.query(
        `INSERT INTO apps (id, workspace_id, name, bot_user_id, signing_secret, event_subscriptions, request_url, interactivity_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [app.id, app.workspace, app.name, app.botUserId, app.signingSecret, app.events, app.requestUrl, app.interactivityUrl],
      );
      await this.insertCredential(db, app.botUserId, 'bot', app.botToken);
      await this.insertCredential(db, app.botUserId, 'app', app.appToken);
      return this.find(app.workspace, app.id, db);
    });
  }

  async insertCredential(db: Queryable, botUser: string, kind: 'bot' | 'app', token: NewCredential): Promise<void> {
    await db.query('INSERT INTO tokens (id, user_id, secret_hash, kind) VALUES ($1, $2, $3, $4)', [
      token.id,
      botUser,
      token.secretHash,
      kind,
    ]);
  }

  /** Revokes every live credential of that kind of the bot user; returns their ids. */
  async revokeCredentials(db: Queryable, botUser: string, kind: 'bot' | 'app'): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      'UPDATE tokens SET revoked_at = now() WHERE user_id = $1 AND kind = $2 AND revoked_at IS NULL RETURNING id',
      [botUser, kind],
    );
    return rows.map((r) => r.id);
  }

  async find(workspace: string, id: string, db: Queryable = this.pool): Promise<AppRow | undefined> {
    const { rows } = await db.query<AppRow>(
      `SELECT ${APP_COLUMNS} FROM apps a JOIN users u ON u.id = a.bot_user_id WHERE a.id = $1 AND a.workspace_id = $2`,
      [id, workspace],
    );
    return rows[0];
  }

  async findById(id: string): Promise<AppRow | undefined> {
    const { rows } = await this.pool.query<AppRow>(
      `SELECT ${APP_COLUMNS} FROM apps a JOIN users u ON u.id = a.bot_user_id WHERE a.id = $1`,
      [id],
    );
    return rows[0];
  }

  async findByBotUser(botUser: string): Promise<AppRow | undefined> {
    const { rows } = await this.pool.query<AppRow>(
      `SELECT ${APP_COLUMNS} FROM apps a JOIN users u ON u.id = a.bot_user_id WHERE a.bot_user_id = $1`,
      [botUser],
    );
    return rows[0];
  }

  async findByBotId(workspace: string, botId: string): Promise<AppRow | undefined> {
    const { rows } = await this.pool.query<AppRow>(
      `SELECT ${APP_COLUMNS} FROM apps a JOIN users u ON u.id = a.bot_user_id WHERE u.bot_id = $1 AND a.workspace_id = $2`,
      [botId, workspace],
    );
    return rows[0];
  }

  async list(workspace: string): Promise<AppRow[]> {
    const { rows } = await this.pool.query<AppRow>(
      `SELECT ${APP_COLUMNS} FROM apps a JOIN users u ON u.id = a.bot_user_id WHERE a.workspace_id = $1 ORDER BY a.created_at, a.id`,
      [workspace],
    );
    return rows;
  }

  /** Every installed app of every workspace: the delivery streams. */
  async listInstalled(): Promise<AppRow[]> {
    const { rows } = await this.pool.query<AppRow>(
      `SELECT ${APP_COLUMNS} FROM apps a JOIN users u ON u.id = a.bot_user_id WHERE a.uninstalled_at IS NULL ORDER BY a.id`,
    );
    return rows;
  }

  async update(
    workspace: string,
    id: string,
    fields: { events?: string[]; requestUrl?: string | null; interactivityUrl?: string | null },
  ): Promise<AppRow | undefined> {
    await this.pool.query(
      `UPDATE apps SET
         event_subscriptions = coalesce($3, event_subscriptions),
         request_url = CASE WHEN $4 THEN $5 ELSE request_url END,
         interactivity_url = CASE WHEN $6 THEN $7 ELSE interactivity_url END
       WHERE id = $1 AND workspace_id = $2`,
      [
        id,
        workspace,
        fields.events ?? null,
        fields.requestUrl !== undefined,
        fields.requestUrl ?? null,
        fields.interactivityUrl !== undefined,
        fields.interactivityUrl ?? null,
      ],
    );
    return this.find(workspace, id);
  }

  async setSigningSecret(id: string, secret: string): Promise<void> {
    await this.pool.query('UPDATE apps SET signing_secret = $2 WHERE id = $1', [id, secret]);
  }

  async pause(id: string, reason: string): Promise<void> {
    await this.pool.query('UPDATE apps SET paused_at = now(), paused_reason = $2 WHERE id = $1 AND paused_at IS NULL', [id, reason]);
  }

  async resume(workspace: string, id: string): Promise<AppRow | undefined> {
    await this.pool.query('UPDATE apps SET paused_at = NULL, paused_reason = NULL WHERE id = $1 AND workspace_id = $2', [id, workspace]);
    return this.find(workspace, id);
  }

  /** Channel facts the event payloads need: workspace, privacy and kind (channel, im, mpim). */
  async channelFacts(ids: string[]): Promise<{ id: string; workspace_id: string; is_private: boolean; kind: string }[]> {
    const { rows } = await this.pool.query<{ id: string; workspace_id: string; is_private: boolean; kind: string }>(
      'SELECT id, workspace_id, is_private, kind FROM channels WHERE id = ANY($1)',
      [ids],
    );
    return rows;
  }

  /** Channels the user belongs to now (where a delivery stream starts its membership view). */
  async memberships(user: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ channel_id: string }>('SELECT channel_id FROM channel_members WHERE user_id = $1', [user]);
    return rows.map((r) => r.channel_id);
  }

  /** bot_id of each user that is a bot, among `ids`. */
  async botIds(ids: string[]): Promise<Map<string, string>> {
    const { rows } = await this.pool.query<{ id: string; bot_id: string }>(
      'SELECT id, bot_id FROM users WHERE id = ANY($1) AND bot_id IS NOT NULL',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.bot_id]));
  }

  async insertWebhook(hook: { id: string; app: string; channel: string; secretHash: Buffer }): Promise<void> {
    await this.pool.query('INSERT INTO incoming_webhooks (id, app_id, channel_id, secret_hash) VALUES ($1, $2, $3, $4)', [
      hook.id,
      hook.app,
      hook.channel,
      hook.secretHash,
    ]);
  }

  async findWebhook(
    id: string,
  ): Promise<{ id: string; app_id: string; channel_id: string; secret_hash: Buffer; workspace_id: string } | undefined> {
    const { rows } = await this.pool.query<{ id: string; app_id: string; channel_id: string; secret_hash: Buffer; workspace_id: string }>(
      `SELECT h.id, h.app_id, h.channel_id, h.secret_hash, a.workspace_id FROM incoming_webhooks h JOIN apps a ON a.id = h.app_id
        WHERE h.id = $1 AND h.revoked_at IS NULL AND a.uninstalled_at IS NULL`,
      [id],
    );
    return rows[0];
  }

  async revokeWebhook(app: string, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'UPDATE incoming_webhooks SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND app_id = $2',
      [id, app],
    );
    return Boolean(rowCount);
  }

  async insertResponseUrl(r: {
    id: string;
    app: string;
    channel: string;
    messageTs: bigint;
    user: string;
    secretHash: Buffer;
  }): Promise<void> {
    await this.pool.query(
      `INSERT INTO app_response_urls (id, app_id, channel_id, message_ts, user_id, secret_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + interval '30 minutes')`,
      [r.id, r.app, r.channel, r.messageTs, r.user, r.secretHash],
    );
  }

  /** Spends one use of a response URL; undefined when it is unknown, expired or used up. */
  async spendResponseUrl(
    id: string,
  ): Promise<{ app_id: string; channel_id: string; message_ts: string; user_id: string; secret_hash: Buffer } | undefined> {
    const { rows } = await this.pool.query<{
      app_id: string;
      channel_id: string;
      message_ts: string;
      user_id: string;
      secret_hash: Buffer;
    }>(
      `UPDATE app_response_urls SET uses_left = uses_left - 1 WHERE id = $1 AND uses_left > 0 AND expires_at > now()
       RETURNING app_id, channel_id, message_ts::text, user_id, secret_hash`,
      [id],
    );
    return rows[0];
  }

  async insertSocketTicket(hash: Buffer, tokenId: string): Promise<void> {
    // Spent and expired tickets are worth nothing: each new one sweeps the old.
    await this.pool.query(`DELETE FROM app_socket_tickets WHERE expires_at < now() - interval '10 minutes'`);
    await this.pool.query(
      `INSERT INTO app_socket_tickets (ticket_hash, token_id, expires_at) VALUES ($1, $2, now() + interval '60 seconds')`,
      [hash, tokenId],
    );
  }

  /** Spends a ticket whose app token is still live; the token id and its app, or undefined. */
  async redeemSocketTicket(hash: Buffer): Promise<{ token_id: string; app_id: string } | undefined> {
    const { rows } = await this.pool.query<{ token_id: string; app_id: string }>(
      `WITH t AS (
         UPDATE app_socket_tickets SET used_at = now() WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING token_id
       )
       SELECT t.token_id, a.id AS app_id FROM t
         JOIN tokens k ON k.id = t.token_id AND k.kind = 'app' AND k.revoked_at IS NULL
         JOIN apps a ON a.bot_user_id = k.user_id AND a.uninstalled_at IS NULL`,
      [hash],
    );
    return rows[0];
  }
}
