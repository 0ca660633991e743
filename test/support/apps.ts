import bolt from '@slack/bolt';
import type { TestApp, TestUser } from './test-app.js';

const { App, LogLevel } = bolt;

export type BoltApp = InstanceType<typeof App>;

export interface InstalledApp {
  id: string;
  botUserId: string;
  botId: string;
  botToken: string;
  appToken: string;
  signingSecret: string;
  /** The bot as a user, e.g. a member for t.newChannel. */
  bot: TestUser;
}

export const ALL_MESSAGE_EVENTS = ['message.channels', 'message.groups', 'message.im', 'message.mpim', 'app_mention'];

/** Installs an app through the admin API (as the operator). */
export async function installApp(
  t: TestApp,
  workspace: string,
  body: { name: string; events?: string[]; request_url?: string; interactivity_url?: string; bot_name?: string },
): Promise<InstalledApp> {
  const res = await t.admin('POST', `/workspaces/${workspace}/apps`, body);
  if (res.status !== 201) throw new Error(`install: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    id: res.body.app.id,
    botUserId: res.body.app.bot_user_id,
    botId: res.body.app.bot_id,
    botToken: res.body.bot_token,
    appToken: res.body.app_token,
    signingSecret: res.body.signing_secret,
    bot: { id: res.body.app.bot_user_id, token: res.body.bot_token, workspace },
  };
}

/**
 * An unmodified Bolt app of `app` with its own HTTP receiver (and signature check), pointed at
 * atomcast only through clientOptions.slackApiUrl. Add its handlers, then startBolt(it, port).
 */
export function httpBolt(t: TestApp, app: InstalledApp): BoltApp {
  return new App({
    token: app.botToken,
    signingSecret: app.signingSecret,
    clientOptions: { slackApiUrl: `${t.url}/api/` },
    logLevel: LogLevel.ERROR,
    deferInitialization: true,
  });
}

/** The same in Socket Mode: it asks apps.connections.open (through the same slackApiUrl) for its ws URL. */
export function socketModeBolt(t: TestApp, app: InstalledApp): BoltApp {
  const slackApiUrl = `${t.url}/api/`;
  return new App({
    token: app.botToken,
    appToken: app.appToken,
    socketMode: true,
    clientOptions: { slackApiUrl },
    installerOptions: { clientOptions: { slackApiUrl } },
    logLevel: LogLevel.ERROR,
    deferInitialization: true,
  });
}

/** Starts a Bolt app once its handlers are added: its HTTP receiver on 127.0.0.1:`port`, or its socket. */
export async function startBolt(boltApp: BoltApp, port?: number): Promise<void> {
  await boltApp.init();
  await (port === undefined ? boltApp.start() : boltApp.start({ port, host: '127.0.0.1' }));
}

/** The channel's messages, oldest first, as `user` reads them through conversations.history. */
export async function history(t: TestApp, user: TestUser, channel: string): Promise<Record<string, any>[]> {
  const res = await t.api('conversations.history', user.token, { channel, limit: 200 });
  if (!res.body.ok) throw new Error(`history: ${JSON.stringify(res.body)}`);
  return (res.body.messages as Record<string, any>[]).reverse();
}
