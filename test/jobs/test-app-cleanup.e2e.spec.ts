import { Redis } from 'ioredis';
import { TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

// Test files share one Redis; each namespaces its BullMQ keys by JOBS_PREFIX and must leave none behind.
describe('TestApp.close', () => {
  it('removes every BullMQ key of its JOBS_PREFIX from Redis', async () => {
    const t = await TestApp.start({ JOBS_DISPATCH_INTERVAL_MS: '50' });
    const redis = new Redis(t.config.REDIS_URL);
    try {
      const ws = await t.newWorkspace();
      const admin = await t.newUser(ws, 'admin');
      const channel = await t.newChannel(admin, 'links');
      await t.api('chat.postMessage', admin.token, { channel, text: 'see http://127.0.0.1:9/nothing-listens-here' });
      const run = await t.admin('POST', `/workspaces/${ws}/retention/runs`);
      const path = `/workspaces/${ws}/retention/runs/${run.body.id}`;
      await waitFor(async () => (await t.admin('GET', path)).body.status === 'done', 20_000, 'the retention run');
      const prefix = `${t.config.JOBS_PREFIX}:`;
      expect((await redis.keys(`${prefix}*`)).length).toBeGreaterThan(0);

      await t.close();
      expect(await redis.keys(`${prefix}*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
