import { WebClient } from '@slack/web-api';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { FilesSweep } from '../../src/jobs/files/files-sweep.js';
import { RetentionService } from '../../src/jobs/retention/retention.service.js';
import type { JobRun } from '../../src/jobs/runs/job-runs.repository.js';
import { storedFiles } from '../support/stored-files.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const DAY_MS = 24 * 3600 * 1000;
const NAME = 'merger-plans-zebra.txt';

describe('files under EKM, retention and the orphan sweep', () => {
  let t: TestApp;
  let dir: string;
  let ws: string;
  let admin: TestUser;
  let bob: TestUser;
  let channel: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atomcast-files-ekm-'));
    t = await TestApp.start({ FILES_DIR: dir, EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'), FILES_ORPHAN_TTL_MS: '60000' });
    ws = await t.newWorkspace();
    [admin, bob] = await Promise.all([t.newUser(ws, 'admin'), t.newUser(ws)]);
    channel = await t.newChannel(admin, 'deals', false, [bob]);
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  const local = (url: string) => `${t.url}${new URL(url).pathname}`;
  const get = (url: string, u: TestUser, headers: Record<string, string> = {}) =>
    fetch(local(url), { headers: { authorization: `Bearer ${u.token}`, ...headers } });
  async function upload(u: TestUser, args: Record<string, unknown>) {
    const client = new WebClient(u.token, { slackApiUrl: `${t.url}/api/`, retryConfig: { retries: 0 } });
    const res = (await client.filesUploadV2(args as never)) as unknown as { files: Array<{ files: any[] }> };
    return res.files[0].files[0];
  }
  const ekm = (method: string, path: string, body?: unknown) => t.admin(method, `/workspaces/${ws}/ekm${path}`, body);
  const finished = (run: { id: string }) =>
    waitFor(async () => (await ekm('GET', `/runs/${run.id}`)).body.status === 'done', 20_000, 'EKM run');
  /** Whether any table of the database holds `needle` in any text or bytea column (cast to text). */
  async function databaseHolds(needle: string): Promise<string[]> {
    const { rows } = await t.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const found: string[] = [];
    for (const { table_name } of rows) {
      const hit = await t.pool.query(`SELECT 1 FROM "${table_name}" x WHERE x::text ILIKE $1 LIMIT 1`, [`%${needle}%`]);
      if (hit.rowCount) found.push(table_name);
    }
    return found;
  }

  const PLAIN = 'the plaintext of the sealed file: ZEBRA-7781 '.repeat(5000);
  let before: { id: string; url_private: string };
  let after: { id: string; url_private: string; url_private_download: string };
  let image: { id: string; url_private: string };

  it('seals files uploaded before EKM (enable run) and after: no plaintext bytes on disk, no name in the database', async () => {
    before = await upload(bob, { channel_id: channel, file: Buffer.from(PLAIN), filename: `early-${NAME}` });
    expect((await storedFiles(dir)).some((f) => f.bytes.includes('ZEBRA-7781'))).toBe(true);

    const enabled = await ekm('POST', '', { provider: 'local' });
    expect(enabled.status).toBe(202);
    await finished(enabled.body.run);

    after = await upload(bob, { channel_id: channel, file: Buffer.from(PLAIN), filename: NAME, initial_comment: 'sealed comment' });
    const png = await sharp({ create: { width: 720, height: 720, channels: 3, background: '#3c3' } })
      .png()
      .toBuffer();
    image = await upload(bob, { channel_id: channel, file: png, filename: 'secret-photo.png' });
    await waitFor(async () => !!(await t.api('files.info', admin.token, { file: image.id })).body.file?.thumb_360, 20_000, 'thumbnail');

    const disk = await storedFiles(dir);
    expect(disk.length).toBeGreaterThanOrEqual(4); // two files, an image and its thumbnail
    expect(disk.filter((f) => f.bytes.includes('ZEBRA-7781')).map((f) => f.path)).toEqual([]);
    expect(disk.filter((f) => f.bytes.includes(Buffer.from([0x89, 0x50, 0x4e, 0x47]))).map((f) => f.path)).toEqual([]); // no PNG in clear
    expect(await databaseHolds('zebra')).toEqual([]);
    expect(await databaseHolds('secret-photo')).toEqual([]);

    // Members still get names and bytes.
    expect((await t.api('files.info', bob.token, { file: before.id })).body.file.name).toBe(`early-${NAME}`);
    for (const f of [before, after]) {
      const res = await get(f.url_private, admin);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(PLAIN);
    }
    const part = await get(after.url_private, admin, { range: 'bytes=70000-140000' });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe(PLAIN.slice(70000, 140001));
    const thumb = await get((await t.api('files.info', bob.token, { file: image.id })).body.file.thumb_360, bob);
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).width).toBe(360);
  });

  it('revoke: downloads and files.info answer ekm_access_denied; restore: they work again', async () => {
    const revoked = await ekm('POST', '/revocations', {});
    expect(revoked.status).toBe(201);
    for (const f of [before, after]) {
      const res = await get(f.url_private, bob);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ ok: false, error: 'ekm_access_denied' });
    }
    expect((await t.api('files.info', bob.token, { file: after.id })).body).toEqual({ ok: false, error: 'ekm_access_denied' });

    expect((await ekm('DELETE', `/revocations/${revoked.body.revocation.id}`)).status).toBe(200);
    const res = await get(after.url_private_download, bob);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(PLAIN);
  });

  it('rotation re-wraps every file key; the files still open', async () => {
    const rotated = await ekm('POST', '/rotate', {});
    await finished(rotated.body.run);
    const { rows } = await t.pool.query<{ key_version: number }>('SELECT DISTINCT key_version FROM files WHERE wrapped_key IS NOT NULL');
    expect(rows).toEqual([{ key_version: 2 }]);
    expect(await (await get(before.url_private, bob)).text()).toBe(PLAIN);
  });

  it('retention deletes the files of expired messages from storage', async () => {
    const keep = await t.admin('PUT', `/workspaces/${ws}/channels/${channel}/retention`, { keep_days: 1 }, admin.token);
    expect(keep.status).toBe(200);
    const ids = [before.id, after.id, image.id];
    const run = { id: randomUUID(), workspace_id: ws, kind: 'retention' } as JobRun;
    await t.app.get(RetentionService).sweep(run, { now: new Date(Date.now() + 2 * DAY_MS) });
    expect(await storedFiles(dir)).toEqual([]);
    expect((await t.pool.query('SELECT id FROM files WHERE id = ANY($1)', [ids])).rowCount).toBe(0);
    expect((await get(after.url_private, bob)).status).toBe(404);
  });

  it('sweeps uploads never completed (bytes and row), not the completed ones', async () => {
    await t.admin('DELETE', `/workspaces/${ws}/channels/${channel}/retention`, undefined, admin.token);
    const kept = await upload(bob, { channel_id: channel, file: Buffer.from('kept'), filename: 'kept.txt' });
    const orphan = (await t.api('files.getUploadURLExternal', bob.token, { filename: 'orphan.txt', length: 6 })).body;
    await fetch(orphan.upload_url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'orphan' });
    const never = (await t.api('files.getUploadURLExternal', bob.token, { filename: 'never.txt', length: 6 })).body;
    expect((await storedFiles(dir)).length).toBe(2);

    const sweep = t.app.get(FilesSweep);
    expect(await sweep.sweep(new Date())).toBe(0); // not old enough yet
    expect(await sweep.sweep(new Date(Date.now() + 120_000))).toBe(2);
    const left = await storedFiles(dir);
    expect(left).toHaveLength(1);
    expect(left[0].path).toContain(kept.id);
    const rows = (await t.pool.query<{ id: string }>('SELECT id FROM files WHERE id = ANY($1)', [[kept.id, orphan.file_id, never.file_id]]))
      .rows;
    expect(rows).toEqual([{ id: kept.id }]);
  });
});
