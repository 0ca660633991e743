import { randomBytes } from 'node:crypto';
import { ProjectorService } from '../../src/projections/projector.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

// Distinctive words (none is hex, so none can appear inside a hex-printed value by chance).
const WORDS = ['zanzibar', 'quokka', 'marmalade', 'vortex', 'wombat', 'kumquat', 'yodel', 'juxtapose'];

describe('search under EKM: keyed blind tokens, no plaintext word at rest', () => {
  let t: TestApp;
  let ws: string;
  let admin: TestUser;
  let member: TestUser;
  let general: string;
  let vault: string;

  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
    ws = await t.newWorkspace();
    admin = await t.newUser(ws, 'admin', 'admin');
    member = await t.newUser(ws, 'member', 'mia');
    general = await t.newChannel(admin, 'general', false, [member]);
    vault = await t.newChannel(admin, 'vault', true, [member]);
  });
  afterAll(() => t.close());

  const post = async (channel: string, text: string) => {
    const res = await t.api('chat.postMessage', member.token, { channel, text });
    expect(res.body.ok).toBe(true);
    return res.body.ts as string;
  };
  const ekm = (method: string, path = '', body?: unknown) => t.admin(method, `/workspaces/${ws}/ekm${path}`, body);
  const finished = async (run: { id: string }) =>
    waitFor(async () => (await ekm('GET', `/runs/${run.id}`)).body.status === 'done', 20_000, `EKM run ${run.id}`);
  const search = async (query: string, args: Record<string, string | boolean> = {}) => {
    await t.app.get(ProjectorService).catchUp();
    return (await t.api('search.messages', member.token, { query, sort: 'timestamp', sort_dir: 'asc', ...args })).body;
  };
  const texts = async (query: string) => (await search(query)).messages.matches.map((m: { text: string }) => m.text);

  /** Every row of every table (text columns as text, bytea columns as raw bytes) that holds `word`. */
  const grepAllTables = async (word: string): Promise<string[]> => {
    const { rows: columns } = await t.pool.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
         JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        WHERE c.table_schema = 'public' AND tb.table_type = 'BASE TABLE'`,
    );
    const found: string[] = [];
    for (const table of new Set(columns.map((c) => c.table_name))) {
      const conditions = columns
        .filter((c) => c.table_name === table)
        .map((c) =>
          c.data_type === 'bytea'
            ? `position(convert_to($1, 'UTF8') IN coalesce(t."${c.column_name}", ''::bytea)) > 0`
            : `t."${c.column_name}"::text ILIKE '%' || $1 || '%'`,
        );
      const { rows } = await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" t WHERE ${conditions.join(' OR ')}`, [
        word,
      ]);
      if (rows[0].n) found.push(`${table}: ${rows[0].n}`);
    }
    return found;
  };

  it('indexes plain words before EKM, and the grep finds them (the check can fail)', async () => {
    await post(general, 'Zanzibar quokka before the keys arrived');
    expect(await texts('quokka')).toEqual(['Zanzibar quokka before the keys arrived']);
    expect(await grepAllTables('quokka')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^messages: /), expect.stringMatching(/^search_messages: /)]),
    );
  });

  it('enabling EKM re-indexes the old rows as blind tokens; new posts are indexed blind; search works', async () => {
    const res = await ekm('POST', '', { provider: 'local' });
    expect(res.status).toBe(202);
    await finished(res.body.run);
    const ts = await post(general, 'Marmalade vortex wombat over the kumquat');
    await post(vault, 'yodel juxtapose in the private vault');

    expect(await texts('quokka')).toEqual(['Zanzibar quokka before the keys arrived']);
    expect(await texts('"vortex wombat"')).toEqual(['Marmalade vortex wombat over the kumquat']);
    expect(await texts('"wombat vortex"')).toEqual([]);
    expect(await texts('kumquat -marmalade')).toEqual([]);
    expect(await texts('yodel in:#vault')).toEqual(['yodel juxtapose in the private vault']);
    const body = await search('wombat', { highlight: true });
    expect(body.messages.matches).toEqual([
      expect.objectContaining({
        ts,
        text: 'Marmalade vortex \ue000wombat\ue001 over the kumquat',
        channel: expect.objectContaining({ id: general }),
      }),
    ]);
    // Edits re-index blind too.
    expect((await t.api('chat.update', member.token, { channel: general, ts, text: 'Marmalade vortex juxtapose' })).body.ok).toBe(true);
    expect(await texts('wombat')).toEqual([]);
    expect(await texts('juxtapose')).toEqual(['Marmalade vortex juxtapose', 'yodel juxtapose in the private vault']);

    const { rows } = await t.pool.query('SELECT DISTINCT key_version FROM search_messages WHERE workspace_id = $1', [ws]);
    expect(rows).toEqual([{ key_version: 1 }]);
  });

  it('no table holds any word of the messages, and a plain index row is refused by the database', async () => {
    await t.app.get(ProjectorService).catchUp();
    for (const word of WORDS) expect({ word, found: await grepAllTables(word) }).toEqual({ word, found: [] });
    await expect(
      t.pool.query(`UPDATE search_messages SET key_version = NULL, tokens = 'quokka'::tsvector WHERE workspace_id = $1`, [ws]),
    ).rejects.toMatchObject({ code: 'EK001' });
  });

  it('revoking the workspace answers ekm_access_denied; a channel revocation hides that channel; restoring brings it back', async () => {
    const res = await ekm('POST', '/revocations', {});
    expect(res.status).toBe(201);
    expect(await search('juxtapose')).toEqual({ ok: false, error: 'ekm_access_denied' });
    expect((await t.api('search.all', member.token, { query: 'juxtapose' })).body).toEqual({ ok: false, error: 'ekm_access_denied' });
    await finished(res.body.run);
    const restored = await ekm('DELETE', `/revocations/${res.body.revocation.id}`);
    expect(restored.status).toBe(200);
    await finished(restored.body.run);
    expect(await texts('juxtapose')).toEqual(['Marmalade vortex juxtapose', 'yodel juxtapose in the private vault']);

    const partial = await ekm('POST', '/revocations', { channel: vault });
    expect(partial.status).toBe(201);
    expect(await texts('juxtapose')).toEqual(['Marmalade vortex juxtapose']);
    await finished(partial.body.run);
    const back = await ekm('DELETE', `/revocations/${partial.body.revocation.id}`);
    await finished(back.body.run);
    expect(await texts('juxtapose')).toEqual(['Marmalade vortex juxtapose', 'yodel juxtapose in the private vault']);
  });

  it('rotation re-indexes under the new key version by the EKM job, and search keeps working', async () => {
    const before = (await t.pool.query('SELECT tokens::text FROM search_messages WHERE workspace_id = $1 ORDER BY ts', [ws])).rows;
    const res = await ekm('POST', '/rotate', {});
    expect(res.status).toBe(202);
    await finished(res.body.run);
    const { rows } = await t.pool.query('SELECT DISTINCT key_version FROM search_messages WHERE workspace_id = $1', [ws]);
    expect(rows).toEqual([{ key_version: 2 }]);
    const keys = await t.pool.query('SELECT key_version FROM search_keys WHERE workspace_id = $1', [ws]);
    expect(keys.rows).toEqual([{ key_version: 2 }]);
    const after = (await t.pool.query('SELECT tokens::text FROM search_messages WHERE workspace_id = $1 ORDER BY ts', [ws])).rows;
    expect(after).toHaveLength(before.length);
    expect(after.filter((r, i) => r.tokens === before[i].tokens)).toEqual([]); // every token changed with the key
    expect(await texts('juxtapose')).toEqual(['Marmalade vortex juxtapose', 'yodel juxtapose in the private vault']);
    await post(general, 'quokka after rotation');
    expect(await texts('quokka')).toEqual(['Zanzibar quokka before the keys arrived', 'quokka after rotation']);
  });
});
