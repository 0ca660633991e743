import { EventStore } from '../../src/event-store/event-store.js';
import { RetentionService, retentionRunView } from '../../src/jobs/retention/retention.service.js';
import { JobRunsService } from '../../src/jobs/runs/job-runs.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';

const DAY_MS = 86_400_000;

describe('retention sweep', () => {
  let t: TestApp;
  let retention: RetentionService;
  let runs: JobRunsService;
  let ada: TestUser;
  let ws: string;

  beforeAll(async () => {
    // No workers: the test runs the sweeps itself, with its own clock.
    t = await TestApp.start({ ROLES: 'api', JOBS_DISPATCHER_ENABLED: 'false' });
    retention = t.app.get(RetentionService);
    runs = t.app.get(JobRunsService);
    ws = await t.newWorkspace();
    ada = await t.newUser(ws, 'admin');
  });
  afterAll(() => t.close());

  const post = async (channel: string, text: string, thread_ts?: string) => {
    const res = await t.api('chat.postMessage', ada.token, { channel, text, ...(thread_ts ? { thread_ts } : {}) });
    expect(res.body.ok).toBe(true);
    return res.body.ts as string;
  };
  const bodies = async (channel: string) =>
    (await t.pool.query<{ text: string | null }>('SELECT text FROM messages WHERE channel_id = $1 ORDER BY seq', [channel])).rows.map(
      (r) => r.text,
    );

  it('deletes expired bodies for good, records redactions, keeps seq gapless, and resumes after a crash', async () => {
    const general = await t.newChannel(ada, 'general');
    const keep = await t.newChannel(ada, 'keep-forever');

    // Old messages: a thread with replies, plain messages, one the author already deleted.
    const parent = await post(general, 'old parent');
    for (let i = 0; i < 3; i++) await post(general, `old reply ${i}`, parent);
    for (let i = 0; i < 20; i++) await post(general, `old ${i}`);
    const gone = await post(general, 'old, deleted by its author');
    await t.api('chat.delete', ada.token, { channel: general, ts: gone });
    await post(keep, 'old but kept');
    const cutoff = new Date(Date.now() + 1);
    await new Promise((r) => setTimeout(r, 5));
    await post(general, 'new 1');
    await post(general, 'new 2');

    await retention.setPolicy(ws, null, 30);
    await retention.setPolicy(ws, keep, null); // channel override: keep forever
    const now = new Date(cutoff.getTime() + 30 * DAY_MS); // everything before the cutoff is 30 days old

    const run = await retention.createRun(ws);
    let batches = 0;
    await expect(
      runs.execute(run.id, {
        now,
        batchSize: 10,
        afterBatch: () => {
          if (++batches === 1) throw new Error('worker killed mid-sweep');
        },
      }),
    ).rejects.toThrow('worker killed mid-sweep');
    expect(retentionRunView((await retention.findRun(run.id))!)).toMatchObject({ status: 'failed', deleted: '10' });

    const finished = await runs.execute(run.id, { now, batchSize: 10 });
    expect(retentionRunView(finished)).toMatchObject({ status: 'done', deleted: '25' });

    // Physically gone: no row, no text, in the bodies table.
    expect(await bodies(general)).toEqual(['new 1', 'new 2']);
    expect(await bodies(keep)).toEqual(['old but kept']);
    const leftovers = await t.pool.query(`SELECT 1 FROM messages WHERE text LIKE 'old%' AND channel_id = $1`, [general]);
    expect(leftovers.rowCount).toBe(0);

    // History omits them; the kept channel is untouched.
    const history = await t.api('conversations.history', ada.token, { channel: general });
    expect(history.body.messages.map((m: { text: string }) => m.text)).toEqual(['new 2', 'new 1']);
    expect((await t.api('conversations.history', ada.token, { channel: keep })).body.messages).toHaveLength(1);

    // The log: gapless, one redaction per live expired message (24; the author's delete was announced already).
    const events = await t.app.get(EventStore).readChannel(general, 0, 1000);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    const redactions = events.filter((e) => e.type === 'message_deleted').filter((e) => e.reason === 'retention');
    expect(redactions).toHaveLength(24);
    expect(new Set(redactions.map((e) => e.deleted_ts)).size).toBe(24);
    // Replay shows tombstones where the old messages were.
    const oldMessages = events.filter((e) => e.type === 'message').filter((e) => e.subtype === 'tombstone');
    expect(oldMessages).toHaveLength(25);
    expect(oldMessages.every((e) => e.text === '')).toBe(true);

    // Idempotent: sweeping again finds nothing.
    const again = await runs.execute((await retention.createRun(ws)).id, { now });
    expect(again.progress).toBe('0');
    expect(await t.app.get(EventStore).readChannel(general, events.length, 10)).toEqual([]);
  });
});
