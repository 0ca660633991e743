import { withAdminClient } from '../support/databases.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { TestClient, expectComplete, heads, waitFor } from './support.js';

// Correctness never depends on a NOTIFY arriving.
describe('relay without its notifications', () => {
  describe('listener loss', () => {
    let t: TestApp;
    // The safety poll is pushed out of the way: only the reconnect catch-up can repair the loss.
    beforeAll(async () => (t = await TestApp.start({ RELAY_POLL_MS: '60000' })));
    afterAll(() => t.close());

    it('after pg_terminate_backend of the LISTEN connection during traffic, every client has every event', async () => {
      const ws = await t.newWorkspace();
      const owner = await t.newUser(ws);
      const users: TestUser[] = [];
      for (let i = 0; i < 4; i++) users.push(await t.newUser(ws));
      const channels = [await t.newChannel(owner, 'loss-a', false, users), await t.newChannel(owner, 'loss-b', true, users)];
      const clients = await Promise.all(
        users.map((u) => new TestClient(u, t.url).connect({ cursors: Object.fromEntries(channels.map((c) => [c, 0])) })),
      );

      // Waits for the relay's LISTEN connection to be there (it may be reconnecting from the last
      // termination), then kills it.
      const terminate = async (db: Pick<typeof t.pool, 'query'> = t.pool) => {
        const listening = `FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`;
        await waitFor(async () => (await db.query(`SELECT 1 ${listening}`)).rowCount! > 0, 10_000, 'the LISTEN connection');
        const { rows } = await db.query(`SELECT pg_terminate_backend(pid) ${listening}`);
        return rows.length;
      };
      let terminated = 0;
      for (let i = 0; i < 60; i++) {
        if (i % 20 === 5) terminated += await terminate();
        const res = await t.api('chat.postMessage', owner.token, { channel: channels[i % 2], text: `m${i}` });
        expect(res.body.ok).toBe(true);
      }
      // The last writes land while the listener is down and cannot come back (the database refuses
      // new connections); their hints go nowhere. Only the listener's reconnect catch-up delivers them.
      const db = await t.pool.connect();
      try {
        await withAdminClient((a) => a.query(`ALTER DATABASE ${t.db.name} ALLOW_CONNECTIONS false`));
        terminated += await terminate(db);
        for (const channel of channels) {
          await db.query('SELECT post_message($1, $2, $3, $4, NULL, false, NULL)', [ws, channel, owner.id, 'while deaf']);
          await db.query("SELECT pg_notify('atomcast_events', $1)", [channel + ':999']);
        }
      } finally {
        await withAdminClient((a) => a.query(`ALTER DATABASE ${t.db.name} ALLOW_CONNECTIONS true`));
        db.release();
      }
      expect(terminated).toBe(4);

      const head = await heads(t, channels);
      for (const c of clients) await waitFor(() => channels.every((ch) => c.last(ch) >= head.get(ch)!), 15_000, `${c.user.id} caught up`);
      for (const c of clients) {
        expectComplete(c, head);
        c.disconnect();
      }
    });
  });

  describe('a lost hint', () => {
    let t: TestApp;
    beforeAll(async () => (t = await TestApp.start({ RELAY_POLL_MS: '50' })));
    afterAll(() => t.close());

    it('is repaired by the safety poll: an append that sent no NOTIFY still reaches the sockets', async () => {
      const ws = await t.newWorkspace();
      const owner = await t.newUser(ws);
      const bob = await t.newUser(ws);
      const channel = await t.newChannel(owner, 'silent', false, [bob]);
      const b = await new TestClient(bob, t.url).connect();
      // Straight through the SQL function: committed, but no fan-out hint is ever sent.
      const { rows } = await t.pool.query<{ seq: string }>('SELECT seq FROM post_message($1, $2, $3, $4, NULL, false, NULL)', [
        ws,
        channel,
        owner.id,
        'no hint',
      ]);
      const seq = Number(rows[0].seq);
      await waitFor(() => b.seqs(channel).includes(seq), 10_000, 'the unhinted message');
      expect(b.events.at(-1)).toMatchObject({ seq, type: 'message', text: 'no hint' });
      b.disconnect();
    });
  });
});
