import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type Config } from '../../config/config.js';
import { inTransaction } from '../../db/database.js';
import { newUserId } from '../../domain/ids.js';
import { hashSecret, issueToken, secretMatches } from '../../workspaces/tokens.js';
import { WorkspacesService } from '../../workspaces/workspaces.service.js';
import { AppStreamsService } from './app-streams.service.js';
import { type AppRow, AppsRepository } from './apps.repository.js';
import { DeliveryFailed, signedPost } from './signed-post.js';
import { SocketModeHub } from './socket-mode-hub.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const slackId = (prefix: string) => prefix + [...randomBytes(10)].map((b) => ALPHABET[b & 31]).join('');
const newSigningSecret = () => randomBytes(16).toString('hex');

/** Why an app setting was refused (the admin API answers 400 with it). */
export class AppSettingRefused extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export type AppCredential = 'bot_token' | 'app_token' | 'signing_secret';

export interface AppSettings {
  events?: string[];
  request_url?: string | null;
  interactivity_url?: string | null;
}

/**
 * Installing apps and managing their credentials: a bot user with a bot token (xoxb-), an app token
 * (xapp-, Socket Mode) and a signing secret. Tokens are hashed like user tokens; revoking one takes
 * effect on every node at once (the revocation bus) and closes its open Socket Mode connections.
 */
@Injectable()
export class AppsService {
  constructor(
    private readonly repo: AppsRepository,
    private readonly workspaces: WorkspacesService,
    private readonly streams: AppStreamsService,
    private readonly hub: SocketModeHub,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** Installs an app; its tokens and signing secret are shown only in this answer. */
  async install(workspace: string, input: { name: string; bot_name?: string } & AppSettings) {
    const signingSecret = newSigningSecret();
    const id = slackId('A');
    if (input.request_url) await this.verifyUrl(input.request_url, signingSecret);
    const bot = issueToken('bot');
    const appToken = issueToken('app');
    const row = await this.repo.install({
      id,
      workspace,
      name: input.name,
      botUserId: newUserId(),
      botId: slackId('B'),
      botName:
        input.bot_name ??
        input.name
          .toLowerCase()
          .replace(/[^a-z0-9._-]+/g, '-')
          .slice(0, 80),
      signingSecret,
      events: input.events ?? [],
      requestUrl: input.request_url ?? null,
      interactivityUrl: input.interactivity_url ?? null,
      botToken: bot,
      appToken,
    });
    if (!row) throw new AppSettingRefused('name_taken');
    // Delivery starts where the log is now (what commits from here on), not at its beginning.
    await this.repo.pool.query(
      `INSERT INTO checkpoints (name, tx_id, position) VALUES ($1, pg_snapshot_xmin(pg_current_snapshot()), 0) ON CONFLICT (name) DO NOTHING`,
      [`app:${id}`],
    );
    await this.streams.refresh(id);
    return { app: row, bot_token: bot.token, app_token: appToken.token, signing_secret: signingSecret };
  }

  find(workspace: string, id: string) {
    return this.repo.find(workspace, id);
  }

  list(workspace: string) {
    return this.repo.list(workspace);
  }

  findByBotUser(botUser: string) {
    return this.repo.findByBotUser(botUser);
  }

  findByBotId(workspace: string, botId: string) {
    return this.repo.findByBotId(workspace, botId);
  }

  /** Changes subscriptions and URLs; a new request URL must answer Slack's url_verification challenge first. */
  async update(workspace: string, id: string, input: AppSettings): Promise<AppRow | undefined> {
    const app = await this.repo.find(workspace, id);
    if (!app) return undefined;
    if (input.request_url && input.request_url !== app.request_url) await this.verifyUrl(input.request_url, app.signing_secret);
    const row = await this.repo.update(workspace, id, {
      events: input.events,
      requestUrl: input.request_url,
      interactivityUrl: input.interactivity_url,
    });
    await this.streams.refresh(id);
    return row;
  }

  /** Resumes a paused app: delivery continues, in order, from the event that failed. */
  async resume(workspace: string, id: string): Promise<AppRow | undefined> {
    const row = await this.repo.resume(workspace, id);
    if (row) await this.streams.refresh(id);
    return row;
  }

  /**
   * Replaces one credential (`rotate`) or only revokes it (`revoke`, tokens only). The old token stops
   * working at once on every node, and Socket Mode connections opened with an old app token close.
   */
  async replaceCredential(workspace: string, id: string, which: AppCredential, issueNew: boolean) {
    const app = await this.repo.find(workspace, id);
    if (!app) return undefined;
    if (which === 'signing_secret') {
      const secret = newSigningSecret();
      await this.repo.setSigningSecret(id, secret);
      await this.streams.refresh(id);
      return { app_id: id, signing_secret: secret };
    }
    const kind = which === 'bot_token' ? 'bot' : 'app';
    const issued = issueNew ? issueToken(kind) : undefined;
    const revoked = await inTransaction(this.repo.pool, async (db) => {
      const ids = await this.repo.revokeCredentials(db, app.bot_user_id, kind);
      if (issued) await this.repo.insertCredential(db, app.bot_user_id, kind, issued);
      return ids;
    });
    if (revoked.length) {
      await this.workspaces.revokedNow({ user: app.bot_user_id, tokens: revoked, reason: 'token_revoked' });
      this.hub.closeTokens(revoked, 'token_revoked');
    }
    return { app_id: id, revoked: revoked.length, ...(issued ? { [which]: issued.token } : {}) };
  }

  /** A new incoming webhook of the app for one channel; the bot joins nothing (Slack posts as the app). */
  async createWebhook(app: AppRow, channel: string, baseUrl: string) {
    const hookId = slackId('B');
    const secret = randomBytes(18).toString('base64url');
    await this.repo.insertWebhook({ id: hookId, app: app.id, channel, secretHash: hashSecret(secret) });
    return { id: hookId, channel, url: `${baseUrl}/services/${app.workspace_id}/${hookId}/${secret}` };
  }

  revokeWebhook(app: AppRow, hookId: string) {
    return this.repo.revokeWebhook(app.id, hookId);
  }

  /** The app and channel behind a webhook URL; undefined for an unknown, revoked or mistyped one. */
  async webhook(workspace: string, hookId: string, secret: string) {
    const hook = await this.repo.findWebhook(hookId);
    if (!hook || hook.workspace_id !== workspace || !secretMatches(secret, hook.secret_hash)) return undefined;
    const app = await this.repo.findById(hook.app_id);
    return app && !app.uninstalled_at ? { app, channel: hook.channel_id } : undefined;
  }

  /** A single-use ticket for the Socket Mode URL (apps.connections.open), good for a minute. */
  async socketTicket(tokenId: string): Promise<string> {
    const ticket = randomBytes(24).toString('base64url');
    await this.repo.insertSocketTicket(hashSecret(ticket), tokenId);
    return ticket;
  }

  async redeemSocketTicket(ticket: string): Promise<{ tokenId: string; app: AppRow } | undefined> {
    const row = await this.repo.redeemSocketTicket(hashSecret(ticket));
    if (!row || this.workspaces.wasRevoked(row.token_id)) return undefined;
    const app = await this.repo.findById(row.app_id);
    return app && { tokenId: row.token_id, app };
  }

  /** A response_url for one interaction: `<base>/api/apps.respond/<id>/<secret>`. */
  async responseUrl(app: AppRow, channel: string, messageTs: bigint, user: string, baseUrl: string): Promise<string> {
    const id = randomUUID().replace(/-/g, '');
    const secret = randomBytes(18).toString('base64url');
    await this.repo.insertResponseUrl({ id, app: app.id, channel, messageTs, user, secretHash: hashSecret(secret) });
    return `${baseUrl}/api/apps.respond/${id}/${secret}`;
  }

  async spendResponseUrl(id: string, secret: string) {
    const row = await this.repo.spendResponseUrl(id);
    if (!row || !secretMatches(secret, row.secret_hash)) return undefined;
    const app = await this.repo.findById(row.app_id);
    return app && { app, channel: row.channel_id, messageTs: BigInt(row.message_ts), user: row.user_id };
  }

  /** Sends a signed interaction payload (`payload=<json>` form, as Slack does) to the app's interactivity URL. */
  async postInteraction(app: AppRow, payload: Record<string, unknown>): Promise<void> {
    await signedPost({
      url: app.interactivity_url!,
      body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
      contentType: 'application/x-www-form-urlencoded',
      secret: app.signing_secret,
      policy: { allowLoopback: this.config.APPS_ALLOW_LOOPBACK, allowPrivate: this.config.APPS_ALLOW_PRIVATE },
      timeoutMs: this.config.APPS_HTTP_TIMEOUT_MS,
    });
  }

  /** Slack's check before it saves a request URL: the app must echo a random challenge. */
  private async verifyUrl(url: string, secret: string): Promise<void> {
    const challenge = randomBytes(24).toString('base64url');
    let answer: string;
    try {
      answer = await signedPost({
        url,
        body: JSON.stringify({ token: 'url_verification', challenge, type: 'url_verification' }),
        contentType: 'application/json',
        secret,
        policy: { allowLoopback: this.config.APPS_ALLOW_LOOPBACK, allowPrivate: this.config.APPS_ALLOW_PRIVATE },
        timeoutMs: this.config.APPS_HTTP_TIMEOUT_MS,
      });
    } catch (err) {
      throw new AppSettingRefused(`url_verification_failed: ${err instanceof DeliveryFailed ? err.message : 'unknown_error'}`);
    }
    let echoed: unknown = answer.trim();
    try {
      echoed = (JSON.parse(answer) as { challenge?: unknown }).challenge;
    } catch {
      // a plain-text answer is the challenge itself
    }
    if (echoed !== challenge) throw new AppSettingRefused('url_verification_failed: wrong challenge');
  }
}
