import { ProjectorService } from '../../src/projections/projector.service.js';
import { JobRunsService } from '../../src/jobs/runs/job-runs.service.js';
import { RetentionService } from '../../src/jobs/retention/retention.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';

const DAY_MS = 86_400_000;

describe('search index and retention', () => {
  let t: TestApp;
  let ada: TestUser;
  let ws: string;

  beforeAll(async () => {
    // No workers: the test runs the sweep itself, with its own clock.
    t = await TestApp.start({ ROLES: 'api', JOBS_DISPATCHER_ENABLED: 'false' });
    ws = await t.newWorkspace();
    ada = await t.newUser(ws, 'admin');
  });
  afterAll(() => t.close());

  const texts = async (query: string) => {
    await t.app.get(ProjectorService).catchUp();
    const res = await t.api('search.messages', ada.token, { query, sort: 'timestamp', sort_dir: 'asc' });
    return res.body.messages.matches.map((m: { text: string }) => m.text);
  };

  it('expired messages leave the index (rows gone, not hidden)', async () => {
    const general = await t.newChannel(ada, 'general');
    for (const text of ['apricot old one', 'apricot old two']) {
      expect((await t.api('chat.postMessage', ada.token, { channel: general, text })).body.ok).toBe(true);
    }
    const cutoff = new Date(Date.now() + 1);
    await new Promise((r) => setTimeout(r, 5));
    expect((await t.api('chat.postMessage', ada.token, { channel: general, text: 'apricot new' })).body.ok).toBe(true);
    expect(await texts('apricot')).toEqual(['apricot old one', 'apricot old two', 'apricot new']);

    const retention = t.app.get(RetentionService);
    await retention.setPolicy(ws, null, 30);
    const run = await retention.createRun(ws);
    await t.app.get(JobRunsService).execute(run.id, { now: new Date(cutoff.getTime() + 30 * DAY_MS) });

    expect(await texts('apricot')).toEqual(['apricot new']);
    const { rows } = await t.pool.query('SELECT count(*)::int AS n FROM search_messages WHERE channel_id = $1', [general]);
    expect(rows[0].n).toBe(1);
  });
});
