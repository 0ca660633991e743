import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from '../../src/db/database.js';
import { RetentionService } from '../../src/jobs/retention/retention.service.js';
import { JobRunsService } from '../../src/jobs/runs/job-runs.service.js';
import { type Change, type DataChange, PgOutputReader } from '../support/pgoutput.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { startPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.js';
import { waitFor } from '../support/wait-for.js';

const DOCS = fileURLToPath(new URL('../../docs/replay.md', import.meta.url));
const DAY_MS = 86_400_000;

/** The fenced block after `<!-- cdc-test: name -->` in docs/replay.md: the test runs the recipe the reader gets. */
async function recipe(name: string): Promise<string> {
  const docs = await readFile(DOCS, 'utf8');
  const match = new RegExp(`<!-- cdc-test: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(docs);
  if (!match) throw new Error(`docs/replay.md has no block "${name}"`);
  return match[1]!;
}

interface EventRow {
  channel_id: string;
  seq: string;
  ts: string;
  type: string;
  user_id: string | null;
  data: unknown;
  client_msg_id: string | null;
  tx_id: string;
  position: string;
}
const COLUMNS = 'channel_id, seq::text, ts::text, type, user_id, client_msg_id::text, tx_id::text, position::text';
const asEventRow = (row: Record<string, string | null>): EventRow => ({
  channel_id: row.channel_id!,
  seq: row.seq!,
  ts: row.ts!,
  type: row.type!,
  user_id: row.user_id,
  data: JSON.parse(row.data!),
  client_msg_id: row.client_msg_id,
  tx_id: row.tx_id!,
  position: row.position!,
});
const byKey = (a: EventRow, b: EventRow) => a.channel_id.localeCompare(b.channel_id) || Number(a.seq) - Number(b.seq);

/** Per channel, the seqs in the order they arrived. */
function arrivalOrder(rows: Array<{ channel_id: string; seq: string | number }>): Map<string, number[]> {
  const order = new Map<string, number[]>();
  for (const r of rows) order.set(r.channel_id, [...(order.get(r.channel_id) ?? []), Number(r.seq)]);
  return order;
}
const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('change data capture: the atomcast_events publication, as docs/replay.md says', () => {
  let pub: ThrowawayPostgres;
  let sub: ThrowawayPostgres;
  let t: TestApp;
  let work: string;
  let recv: ChildProcess;
  let recvErr = '';
  let bodiesRecv: ChildProcess;
  /** The publisher's log after the workload, sorted by (channel, seq): the truth each consumer must match. */
  let log: EventRow[];
  const at = (text: string) =>
    text.replaceAll('host=db.example port=5432', `host=127.0.0.1 port=${pub.port}`).replaceAll('db.example:5432', `127.0.0.1:${pub.port}`);
  const shell = (cmd: string) => spawn('bash', ['-c', `exec ${at(cmd)}`], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
  const shellDone = (cmd: string) =>
    new Promise<void>((resolve, reject) => {
      const child = shell(cmd);
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd}: exit ${code}: ${err}`))));
    });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'atomcast-cdc-'));
    [pub, sub] = await Promise.all([startPostgres({ wal_level: 'logical' }), startPostgres()]);
    await pub.query('CREATE DATABASE atomcast');
    await migrate(pub.url('atomcast')); // what `npm run migrate` does: the publication comes with the schema
    await pub.query(await recipe('publisher-role'), 'atomcast');

    await sub.query('CREATE DATABASE analytics');
    await sub.query(await recipe('subscriber-table'), 'analytics');
    // Test only: record the order in which the subscriber applies rows (a replica trigger fires for applied
    // rows; the apply worker runs with an empty search_path, hence public.).
    await sub.query(
      `CREATE TABLE arrivals (n bigserial PRIMARY KEY, channel_id text NOT NULL, seq bigint NOT NULL);
       CREATE FUNCTION note_arrival() RETURNS trigger LANGUAGE plpgsql AS
         $$ BEGIN INSERT INTO public.arrivals (channel_id, seq) VALUES (NEW.channel_id, NEW.seq); RETURN NEW; END $$;
       CREATE TRIGGER note_arrival AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION note_arrival();
       ALTER TABLE events ENABLE REPLICA TRIGGER note_arrival;`,
      'analytics',
    );
    await sub.query(at(await recipe('subscription')), 'analytics');
    // Streaming (not copying) once the table's first sync is done.
    await waitFor(
      async () => (await sub.query(`SELECT srsubstate FROM pg_subscription_rel`, 'analytics')).every((r) => r.srsubstate === 'r'),
      30_000,
      'the subscription to finish its first copy',
    );

    await shellDone(await recipe('create-slot'));
    recv = shell(await recipe('start'));
    recv.stderr!.on('data', (d) => (recvErr += d));
    await pub.query(await recipe('bodies-publication'), 'atomcast');
    bodiesRecv = shell(await recipe('bodies-start'));
    // --create-slot --start: changes count from the slot's creation, so wait for it.
    await waitFor(
      async () => (await pub.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'atomcast_bodies' AND active`)).length === 1,
      30_000,
      'the atomcast_bodies slot',
    );

    t = await TestApp.start(
      { ROLES: 'api', JOBS_DISPATCHER_ENABLED: 'false', JOBS_PREFIX: `cdc_${randomBytes(4).toString('hex')}` },
      { name: 'atomcast', url: pub.url('atomcast'), drop: async () => {} },
    );

    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws, 'admin');
    const bob = await t.newUser(ws);
    const channels: string[] = [];
    for (let i = 0; i < 4; i++) channels.push(await t.newChannel(ada, `cdc-${i}`, i === 3, [bob]));

    // Two writers per channel at once, all channels at once: commits interleave across and within channels.
    const writer = async (channel: string, who: TestUser, tag: string) => {
      let parent: string | undefined;
      for (let i = 0; i < 10; i++) {
        const args: Record<string, string> = { channel, text: `${tag} ${i}` };
        if (i % 3 === 2 && parent) args.thread_ts = parent;
        const res = await t.api('chat.postMessage', who.token, args);
        expect(res.body.ok).toBe(true);
        parent ??= res.body.ts;
        if (i % 4 === 1)
          expect((await t.api('chat.update', who.token, { channel, ts: res.body.ts, text: `${tag} ${i} (edited)` })).body.ok).toBe(true);
        if (i % 5 === 3) expect((await t.api('chat.delete', who.token, { channel, ts: res.body.ts })).body.ok).toBe(true);
      }
    };
    await Promise.all(channels.flatMap((c) => [writer(c, ada, 'ada'), writer(c, bob, 'bob')]));

    // Retention: every body expires (a clock 31 days ahead), in several batches per channel.
    const retention = t.app.get(RetentionService);
    await retention.setPolicy(ws, null, 30);
    const run = await retention.createRun(ws);
    await t.app.get(JobRunsService).execute(run.id, { now: new Date(Date.now() + 31 * DAY_MS), batchSize: 7 });
    expect((await t.pool.query('SELECT count(*)::int AS n FROM messages')).rows[0].n).toBe(0); // bodies gone for good

    // The truth: the publisher's log.
    log = (await t.pool.query<Record<string, string | null>>(`SELECT ${COLUMNS}, data::text AS data FROM events`)).rows
      .map(asEventRow)
      .sort(byKey);
  }, 90_000);

  afterAll(async () => {
    await t?.close();
    for (const child of [recv, bodiesRecv])
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
    await sub?.stop();
    await pub?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Everything pg_recvlogical wrote so far. */
  const received = async (file = 'atomcast_events.pgoutput'): Promise<Change[]> =>
    new PgOutputReader().push(await readFile(join(work, file)).catch(() => Buffer.alloc(0)));

  it('delivers every event once, in per-channel seq order, edits, deletes and retention included, to both consumers', async () => {
    const heads = new Map<string, number>();
    for (const e of log) heads.set(e.channel_id, Math.max(heads.get(e.channel_id) ?? 0, Number(e.seq)));
    const expectedOrder = new Map([...heads].map(([channel, head]) => [channel, oneToN(head)]));
    // Each message still live at the run (posted, not deleted by its author) got one retention tombstone.
    const authorDeleted = new Set(
      log
        .filter((e) => e.type === 'message_deleted' && !(e.data as { reason?: string }).reason)
        .map((e) => `${e.channel_id}/${(e.data as { message_ts: number }).message_ts}`),
    );
    const expired = log
      .filter((e) => e.type === 'message')
      .map((e) => `${e.channel_id}/${e.ts}`)
      .filter((m) => !authorDeleted.has(m));
    expect(expired.length).toBeGreaterThan(50);

    // pg_recvlogical (pgoutput): only events (the publication), only INSERTs, each once, per channel in seq order.
    await waitFor(
      async () => (await received()).filter((c) => c.kind === 'insert').length >= log.length,
      30_000,
      `pg_recvlogical to write ${log.length} events (${recvErr})`,
    );
    const stream = await received();
    expect(stream.filter((c) => c.kind !== 'begin' && c.kind !== 'commit' && c.kind !== 'insert')).toEqual([]);
    const inserts = stream.flatMap((c) => (c.kind === 'insert' ? [c] : []));
    expect(new Set(inserts.map((c) => c.table))).toEqual(new Set(['public.events']));
    const streamed = inserts.map((c) => asEventRow(c.row));
    expect(arrivalOrder(streamed)).toEqual(expectedOrder);
    expect([...streamed].sort(byKey)).toEqual(log);
    // Whole transactions: every insert between a begin and its commit, begins and commits alternating.
    const framing = stream.map((c) => (c.kind === 'begin' ? 'B' : c.kind === 'commit' ? 'C' : 'I')).join('');
    expect(framing).toMatch(/^(BI+C)+$/);
    const tombstones = (rows: EventRow[]) =>
      rows
        .filter((e) => e.type === 'message_deleted' && (e.data as { reason?: string }).reason === 'retention')
        .map((e) => `${e.channel_id}/${(e.data as { message_ts: number }).message_ts}`);
    expect(tombstones(streamed).sort()).toEqual([...expired].sort());

    // The subscriber: the same rows, applied once each, per channel in seq order.
    await waitFor(
      async () => (await sub.query('SELECT count(*)::int AS n FROM events', 'analytics'))[0]!.n >= log.length,
      30_000,
      'the subscriber to catch up',
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\nsubscriber log:\n${await sub.logTail()}\npublisher log:\n${await pub.logTail()}`);
    });
    const copy = (await sub.query(`SELECT ${COLUMNS}, data::text AS data FROM events`, 'analytics')).map(asEventRow).sort(byKey);
    expect(copy).toEqual(log);
    expect(
      arrivalOrder(await sub.query<{ channel_id: string; seq: string }>('SELECT channel_id, seq FROM arrivals ORDER BY n', 'analytics')),
    ).toEqual(expectedOrder);
    expect(tombstones(copy).sort()).toEqual([...expired].sort());
  });

  it('with bodies published too, retention arrives as a DELETE of each body row, beside its tombstone event', async () => {
    const messages = log.filter((e) => e.type === 'message');
    const key = (row: { channel_id?: string | null; seq?: string | null }) => `${row.channel_id}/${row.seq}`;
    const tsOf = new Map(messages.map((e) => [key(e), Number(e.ts)]));
    const authorDeleted = new Set(
      log
        .filter((e) => e.type === 'message_deleted' && !(e.data as { reason?: string }).reason)
        .map((e) => `${e.channel_id}/${(e.data as { message_ts: number }).message_ts}`),
    );
    const bodyChanges = async () => (await received('atomcast_bodies.pgoutput')).filter((c) => c.kind !== 'begin' && c.kind !== 'commit');
    await waitFor(
      async () => (await bodyChanges()).filter((c) => c.kind === 'delete').length >= messages.length,
      30_000,
      `${messages.length} body deletes`,
    );
    // Transactions as they came: the changes between each begin and commit.
    const transactions: DataChange[][] = [];
    for (const c of await received('atomcast_bodies.pgoutput'))
      if (c.kind === 'begin') transactions.push([]);
      else if (c.kind !== 'commit') transactions[transactions.length - 1]!.push(c);
    const changes = transactions.flat();
    expect(new Set(changes.map((c) => (c.kind === 'truncate' ? 'truncate' : `${c.kind} ${c.table}`)))).toEqual(
      new Set(['insert public.events', 'insert public.messages', 'update public.messages', 'delete public.messages']),
    );
    // The log as before: every event once.
    const events = changes.flatMap((c) => (c.kind === 'insert' && c.table === 'public.events' ? [asEventRow(c.row)] : []));
    expect(events.sort(byKey)).toEqual(log);

    const body = (kind: 'insert' | 'update' | 'delete') =>
      changes.flatMap((c) => (c.kind === kind && c.table === 'public.messages' ? [c.row] : []));
    // One INSERT per post; edits and author deletes as UPDATEs; retention as one DELETE per row, key only.
    expect(body('insert').map(key).sort()).toEqual(messages.map(key).sort());
    // The writers edited their posts number 1, 5 and 9.
    const edited = body('update').filter((r) => r.text?.endsWith('(edited)'));
    expect(new Set(edited.map(key))).toEqual(
      new Set(
        body('insert')
          .filter((r) => / (1|5|9)$/.test(r.text!))
          .map(key),
      ),
    );
    expect(
      new Set(
        body('update')
          .filter((r) => r.text === null)
          .map(key),
      ),
    ).toEqual(new Set(messages.filter((e) => authorDeleted.has(`${e.channel_id}/${e.ts}`)).map(key)));
    const deletes = body('delete');
    expect(deletes.map(key).sort()).toEqual(messages.map(key).sort());
    for (const row of deletes)
      expect(
        Object.entries(row)
          .filter(([, v]) => v !== null)
          .map(([k]) => k)
          .sort(),
      ).toEqual(['channel_id', 'seq']);
    // Each expired body that was still live goes in the same transaction as its retention tombstone.
    for (const tx of transactions) {
      const gone = tx
        .flatMap((c) => (c.kind === 'delete' ? [key(c.row)] : []))
        .filter((k) => !authorDeleted.has(`${k.split('/')[0]}/${tsOf.get(k)}`));
      const tombstones = tx.flatMap((c) =>
        c.kind === 'insert' && c.table === 'public.events' && JSON.parse(c.row.data!).reason === 'retention'
          ? [`${c.row.channel_id}/${JSON.parse(c.row.data!).message_ts}`]
          : [],
      );
      expect(tombstones.sort()).toEqual(gone.map((k) => `${k.split('/')[0]}/${tsOf.get(k)}`).sort());
    }
  });

  it('drops the slot with the documented command once its consumer stopped', async () => {
    recv.kill('SIGINT'); // pg_recvlogical confirms what it wrote and exits
    await new Promise((r) => (recv.exitCode === null ? recv.once('exit', r) : r(null)));
    await shellDone(await recipe('drop-slot'));
    const slots = await pub.query<{ slot_name: string }>('SELECT slot_name FROM pg_replication_slots ORDER BY slot_name');
    // The subscription's own slot remains, and the bodies consumer's.
    expect(slots.map((s) => s.slot_name)).toEqual(['atomcast_bodies', 'atomcast_log']);
  });
});
