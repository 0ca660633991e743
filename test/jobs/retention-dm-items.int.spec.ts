import { RetentionService } from '../../src/jobs/retention/retention.service.js';
import { JobRunsService } from '../../src/jobs/runs/job-runs.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';

const DAY_MS = 86_400_000;

// Issue 10: a DM is a conversation in the same streams, so the workspace's retention covers it;
// an expired message takes its reactions and its pin with it.
describe('retention of DMs, reactions and pins', () => {
  let t: TestApp;
  let ada: TestUser;
  let bob: TestUser;
  let ws: string;

  beforeAll(async () => {
    // No workers: the test runs the sweep itself, with its own clock.
    t = await TestApp.start({ ROLES: 'api', JOBS_DISPATCHER_ENABLED: 'false' });
    ws = await t.newWorkspace();
    [ada, bob] = await Promise.all([t.newUser(ws, 'admin'), t.newUser(ws)]);
  });
  afterAll(() => t.close());

  it('expires DM messages with their reactions and pin; newer ones keep theirs', async () => {
    const dm = (await t.api('conversations.open', ada.token, { users: bob.id })).body.channel.id as string;
    const old = (await t.api('chat.postMessage', ada.token, { channel: dm, text: 'old' })).body.ts as string;
    await t.api('reactions.add', bob.token, { channel: dm, timestamp: old, name: 'eyes' });
    await t.api('pins.add', bob.token, { channel: dm, timestamp: old });
    const cutoff = new Date(Date.now() + 1);
    await new Promise((r) => setTimeout(r, 5));
    const fresh = (await t.api('chat.postMessage', bob.token, { channel: dm, text: 'new' })).body.ts as string;
    await t.api('reactions.add', ada.token, { channel: dm, timestamp: fresh, name: 'tada' });

    const retention = t.app.get(RetentionService);
    await retention.setPolicy(ws, null, 30);
    const run = await retention.createRun(ws);
    await t.app.get(JobRunsService).execute(run.id, { now: new Date(cutoff.getTime() + 30 * DAY_MS) });

    const history = await t.api('conversations.history', bob.token, { channel: dm });
    expect(history.body.messages).toEqual([
      expect.objectContaining({ text: 'new', reactions: [{ name: 'tada', users: [ada.id], count: 1 }] }),
    ]);
    expect(history.body.pin_count).toBe(0);
    const left = await t.pool.query(
      'SELECT (SELECT count(*) FROM reactions WHERE channel_id = $1)::int AS reactions, (SELECT count(*) FROM pins WHERE channel_id = $1)::int AS pins',
      [dm],
    );
    expect(left.rows[0]).toEqual({ reactions: 1, pins: 0 });
  });
});
