import type { TestApp, TestUser } from '../support/test-app.js';

export interface InstalledApp {
  id: string;
  botUserId: string;
  botId: string;
  botToken: string;
  appToken: string;
  signingSecret: string;
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
  };
}

/** The channel's messages, oldest first, as `user` reads them through conversations.history. */
export async function history(t: TestApp, user: TestUser, channel: string): Promise<Record<string, any>[]> {
  const res = await t.api('conversations.history', user.token, { channel, limit: 200 });
  if (!res.body.ok) throw new Error(`history: ${JSON.stringify(res.body)}`);
  return (res.body.messages as Record<string, any>[]).reverse();
}
