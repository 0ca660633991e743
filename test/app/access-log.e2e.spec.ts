import { jest } from '@jest/globals';
import { PinoLogger } from 'nestjs-pino';
import { TestApp, type TestUser } from '../support/test-app.js';

// One line per request: method, route template, status, duration and the token's id; never the
// query string, the body or the token. ACCESS_LOG=false turns it off, and so does a LOG_LEVEL above info.
describe('HTTP access log', () => {
  const lines: Array<Record<string, unknown>> = [];
  // The access log goes to the root pino logger (it exists once an app has started), context "Access".
  const capture = () =>
    jest.spyOn(PinoLogger.root, 'info').mockImplementation(((line: Record<string, unknown>) => {
      const { context, ...rest } = line;
      if (context === 'Access') lines.push(rest);
    }) as never);
  afterEach(() => jest.restoreAllMocks());

  it('logs each request by its route template and token id, without query string, body or token', async () => {
    const t = await TestApp.start({ JOBS_DISPATCHER_ENABLED: 'false', LOG_LEVEL: 'info' });
    try {
      const ada: TestUser = await t.newUser(await t.newWorkspace());
      const channel = await t.newChannel(ada, 'logged');
      capture();
      lines.length = 0;
      const res = await fetch(`${t.url}/api/chat.postMessage?secret=query-value`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ada.token}` },
        body: JSON.stringify({ channel, text: 'body-text-never-logged' }),
      });
      expect((await res.json()).ok).toBe(true);
      expect(lines).toEqual([
        { method: 'POST', route: '/api/chat.postMessage', status: 200, ms: expect.any(Number), token_id: expect.any(String) },
      ]);
      const text = JSON.stringify(lines);
      for (const secret of ['query-value', 'body-text-never-logged', ada.token]) expect(text).not.toContain(secret);
      expect(ada.token).toContain(String(lines[0].token_id));
    } finally {
      await t.close();
    }
  });

  it('is off with ACCESS_LOG=false', async () => {
    const t = await TestApp.start({ JOBS_DISPATCHER_ENABLED: 'false', ACCESS_LOG: 'false', LOG_LEVEL: 'info' });
    try {
      capture();
      lines.length = 0;
      await t.api('auth.test', undefined);
      expect(lines).toEqual([]);
    } finally {
      await t.close();
    }
  });

  // Its lines are info: with LOG_LEVEL above that, no request even builds one (no hook is added).
  it('is not even attempted with LOG_LEVEL above info', async () => {
    const t = await TestApp.start({ JOBS_DISPATCHER_ENABLED: 'false', LOG_LEVEL: 'warn' });
    try {
      capture();
      lines.length = 0;
      await t.api('auth.test', undefined);
      expect(lines).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
