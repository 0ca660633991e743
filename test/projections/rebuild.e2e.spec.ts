import { EventStore } from '../../src/event-store/event-store.js';
import { PG_POOL } from '../../src/db/database.module.js';
import { ProjectorService } from '../../src/projections/projector.service.js';
import { rebuildProjection } from '../../src/projections/rebuild.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// Determinism: the live projector sees a history piece by piece (a message before its edits, an
// edit before the delete); a rebuild sees it all at once with today's bodies. Rows must be equal.
describe('projection rebuild', () => {
  let t: TestApp;
  let projector: ProjectorService;

  beforeAll(async () => {
    t = await TestApp.start({ PROJECTOR_BATCH_SIZE: '3' });
    projector = t.app.get(ProjectorService);
  });
  afterAll(() => t.close());

  const checksums = async () => {
    const out: Record<string, string> = {};
    for (const projection of projector.projectors.flatMap((p) => p.projections)) {
      for (const table of projection.tables) {
        const { rows } = await t.pool.query<{ n: number; md5: string }>(
          `SELECT count(*)::int AS n, md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) AS md5 FROM ${table} r`,
        );
        out[table] = `${rows[0].n}:${rows[0].md5}`;
      }
    }
    return out;
  };

  it('rebuilding every projection from position 0 gives the rows the live projector kept', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob, cat] = [await t.newUser(ws), await t.newUser(ws), await t.newUser(ws)];
    const ok = async (method: string, user: TestUser, args: Record<string, string | boolean>) => {
      const res = await t.api(method, user.token, args);
      if (!res.body.ok) throw new Error(`${method}: ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const general = await t.newChannel(ada, 'general', false, [bob, cat]);
    const secret = await t.newChannel(bob, 'secret', true, [cat]);

    // Catch up between steps, so the live rows go through every intermediate state.
    const step = async (work: () => Promise<unknown>) => {
      await work();
      await projector.catchUp();
    };
    const a = await ok('chat.postMessage', ada, { channel: general, text: `hi <@${bob.id}>` });
    await projector.catchUp();
    await step(() => ok('chat.update', ada, { channel: general, ts: a.ts, text: 'hi all <!here>' }));
    const b = await ok('chat.postMessage', bob, { channel: general, text: '<!channel> release' });
    await step(() => ok('chat.postMessage', cat, { channel: general, text: 'reply', thread_ts: a.ts }));
    const c = await ok('chat.postMessage', cat, {
      channel: general,
      text: `broadcast <@${ada.id}>`,
      thread_ts: a.ts,
      reply_broadcast: true,
    });
    await projector.catchUp();
    await step(() => ok('chat.update', cat, { channel: general, ts: c.ts, text: `broadcast edited <@${bob.id}>` }));
    await step(() => ok('chat.delete', cat, { channel: general, ts: c.ts }));
    await step(() => ok('chat.delete', bob, { channel: general, ts: b.ts }));
    // Edited then deleted inside one batch of the live projector.
    const d = await ok('chat.postMessage', bob, { channel: secret, text: `<@${cat.id}>` });
    await ok('chat.update', bob, { channel: secret, ts: d.ts, text: 'nobody' });
    await ok('chat.delete', bob, { channel: secret, ts: d.ts });
    for (let i = 0; i < 7; i++) await ok('chat.postMessage', i % 2 ? bob : cat, { channel: secret, text: `bulk ${i} <!here>` });
    await ok('conversations.mark', cat, { channel: secret, ts: d.ts });
    await projector.catchUp();

    const countsBefore = (await ok('client.counts', cat, {})).channels;
    const live = await checksums();
    expect(live.unread_messages.startsWith('12:')).toBe(true);

    for (const projection of projector.projectors.flatMap((p) => p.projections)) {
      // The app's own projector leads, so the rebuild resets and waits for it to replay.
      await rebuildProjection(t.app.get(PG_POOL), t.config.DATABASE_URL, t.app.get(EventStore), projection, { batchSize: 4 });
    }
    await projector.catchUp();
    expect(await checksums()).toEqual(live);
    expect((await ok('client.counts', cat, {})).channels).toEqual(countsBefore);
  });

  it("/readyz reports each projection's lag, and this node as its leader", async () => {
    const ws = await t.newWorkspace('Lag');
    const ada = await t.newUser(ws);
    const channel = await t.newChannel(ada, 'lag');
    await t.api('chat.postMessage', ada.token, { channel, text: 'one' });
    await projector.catchUp();
    const res = await fetch(`${t.url}/readyz`);
    const body = (await res.json()) as {
      projections: Record<string, { events_behind: number; seconds_behind: number; leader_here: boolean; checkpoint: string }>;
    };
    expect(res.status).toBe(200);
    expect(body.projections.unread).toEqual({
      events_behind: 0,
      capped: false,
      seconds_behind: 0,
      leader_here: true,
      checkpoint: expect.stringMatching(/^\d+-\d+$/),
    });
  });
});
