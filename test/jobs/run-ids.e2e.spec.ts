import { runJobId } from '../../src/jobs/queues.js';
import { TestApp } from '../support/test-app.js';

// Finished jobs stay in Redis for a day and a repeated job id is a no-op. Job ids built from run
// numbers that restart at 1 in every database made a fresh database on the same Redis and prefix
// skip its first runs as "done"; ids built from a uuid cannot meet one of another database.
describe('run job ids across databases', () => {
  it('the first runs of two fresh databases on one Redis and prefix have different job ids', async () => {
    const env = { ROLES: 'api', JOBS_DISPATCHER_ENABLED: 'false', JOBS_PREFIX: `runids${process.pid}` };
    const apps = [await TestApp.start(env), await TestApp.start(env)];
    try {
      const ids: string[] = [];
      for (const t of apps) {
        const ws = await t.newWorkspace();
        const res = await t.admin('POST', `/workspaces/${ws}/retention/runs`);
        expect(res.status).toBe(202);
        expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        ids.push(runJobId(res.body.id));
      }
      expect(ids[0]).not.toBe(ids[1]);
    } finally {
      for (const t of apps) await t.close();
    }
  });
});
