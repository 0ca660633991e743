import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { KEY_PROVIDERS, KeyAccessDenied, type KeyProvider, type KeyProviders } from '../../src/crypto/key-provider.js';
import { FileBytes } from '../../src/jobs/files/file-bytes.js';
import { FileThumbnails } from '../../src/jobs/files/file-thumbnails.js';
import { FilesEkm } from '../../src/jobs/files/files-ekm.js';
import { storedFiles } from '../support/stored-files.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const MARKER = 'GIRAFFE-3390';
const PLAIN = `plaintext of a file sealed mid-flight: ${MARKER} `.repeat(4000);
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

/** The workspace's stored objects that hold `needle` in clear (other tests' workspaces are not EKM ones). */
const inClear = (stored: Array<{ path: string; bytes: Buffer }>, ws: string, needle: string | Buffer) =>
  stored.filter((f) => f.path.includes(`/${ws}/`) && f.bytes.includes(needle)).map((f) => f.path);

/**
 * The EKM encrypt run against uploads, completions and thumbnails happening at the same time, the
 * thumbnail of a file already shared, and a key service that fails. The job dispatcher is off: each
 * test runs the thumbnail job and the files part of the encrypt run itself, at the moment it needs.
 */
describe('files: the EKM encrypt run races, late thumbnails, key service failures', () => {
  let t: TestApp;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atomcast-files-races-'));
    t = await TestApp.start({ FILES_DIR: dir, EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'), JOBS_DISPATCHER_ENABLED: 'false' });
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => jest.restoreAllMocks());

  /** A workspace of its own (EKM is one-way), its admin and a channel. */
  async function place() {
    const ws = await t.newWorkspace();
    const admin = await t.newUser(ws, 'admin');
    const channel = await t.newChannel(admin, 'general');
    return { ws, admin, channel };
  }
  const enableEkm = async (ws: string) => expect((await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' })).status).toBe(202);
  const local = (url: string) => `${t.url}${new URL(url).pathname}`;
  const get = (url: string, u: TestUser) => fetch(local(url), { headers: { authorization: `Bearer ${u.token}` } });
  const png = () =>
    sharp({ create: { width: 720, height: 540, channels: 3, background: '#36c' } })
      .png()
      .toBuffer();
  async function uploadOnly(u: TestUser, filename: string, bytes: Buffer | string) {
    const asked = (await t.api('files.getUploadURLExternal', u.token, { filename, length: bytes.length })).body;
    const res = await fetch(asked.upload_url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: typeof bytes === 'string' ? bytes : new Uint8Array(bytes),
    });
    expect(res.status).toBe(200);
    return asked.file_id as string;
  }
  const complete = (u: TestUser, id: string, channel: string, title?: string) =>
    t.api('files.completeUploadExternal', u.token, { files: JSON.stringify([{ id, ...(title ? { title } : {}) }]), channel_id: channel });
  const row = async (id: string) => (await t.pool.query('SELECT * FROM files WHERE id = $1', [id])).rows[0];

  it('a thumbnail made after completeUploadExternal reaches the message: history shows thumb_360, clients get message_changed', async () => {
    const { admin, channel } = await place();
    const id = await uploadOnly(admin, 'late-thumb.png', await png());
    const done = await complete(admin, id, channel);
    expect(done.body.ok).toBe(true);
    const before = (await t.api('conversations.history', admin.token, { channel })).body.messages[0];
    expect(before.files[0].id).toBe(id);
    expect(before.files[0].thumb_360).toBeUndefined(); // no thumbnail yet: the job has not run

    expect(await t.app.get(FileThumbnails).make(id)).toBe('made');
    const after = (await t.api('conversations.history', admin.token, { channel })).body.messages[0];
    expect(after.ts).toBe(done.body.ts);
    expect(after.files[0]).toMatchObject({ id, thumb_360_w: 360, thumb_360_h: 270 });
    expect(after.files).toHaveLength(1);
    const thumb = await get(after.files[0].thumb_360, admin);
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).width).toBe(360);
    expect((await t.api('files.info', admin.token, { file: id })).body.file.thumb_360).toBe(after.files[0].thumb_360);
    const last = await t.pool.query('SELECT type, data FROM events WHERE channel_id = $1 ORDER BY seq DESC LIMIT 1', [channel]);
    expect(last.rows[0].type).toBe('message_changed');

    // A second run of the job (a retry) changes nothing more.
    const events = (await t.pool.query('SELECT count(*)::int AS n FROM events WHERE channel_id = $1', [channel])).rows[0].n;
    expect(await t.app.get(FileThumbnails).make(id)).toBe('made');
    expect((await t.pool.query('SELECT count(*)::int AS n FROM events WHERE channel_id = $1', [channel])).rows[0].n).toBe(events);
  });

  it('an upload streaming while the encrypt run seals its row ends sealed, not lost and not in clear', async () => {
    const { ws, admin, channel } = await place();
    const asked = (await t.api('files.getUploadURLExternal', admin.token, { filename: 'mid-flight.txt', length: PLAIN.length })).body;
    let push!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
    const half = PLAIN.length / 2;
    const answered = fetch(asked.upload_url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    push.enqueue(Buffer.from(PLAIN.slice(0, half)));
    // The first half is being written (under a temporary name) when the encrypt run seals the row.
    await waitFor(async () => (await storedFiles(dir)).some((f) => f.bytes.includes(MARKER)), 10_000, 'first half stored');
    await enableEkm(ws);
    await t.app.get(FilesEkm).sealExisting(ws);
    expect((await row(asked.file_id)).encrypted).toBe(true);
    push.enqueue(Buffer.from(PLAIN.slice(half)));
    push.close();
    expect((await answered).status).toBe(200);

    const done = await complete(admin, asked.file_id, channel);
    expect(done.body.ok).toBe(true);
    const res = await get(done.body.files[0].url_private_download, admin);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(PLAIN);
    expect(inClear(await storedFiles(dir), ws, MARKER)).toEqual([]);
  });

  it('a thumbnail and a completion landing while the run copies the bytes are sealed too (title kept, no PNG in clear)', async () => {
    const { ws, admin, channel } = await place();
    const id = await uploadOnly(admin, 'during-seal.png', await png());
    await enableEkm(ws);
    const bytes = t.app.get(FileBytes);
    const seal = bytes.seal.bind(bytes);
    let raced = false;
    jest.spyOn(bytes, 'seal').mockImplementation(async (file, key) => {
      const sealed = await seal(file, key);
      if (!raced) {
        // Between the run's read of the row (no thumbnail, not shared) and its lock: the thumbnail
        // job, then the completion (which seals the file itself: its name may not be stored in clear).
        raced = true;
        expect(await t.app.get(FileThumbnails).make(id)).toBe('made');
        expect((await complete(admin, id, channel, 'Renamed while sealing')).body.ok).toBe(true);
      }
      return sealed;
    });
    await t.app.get(FilesEkm).sealExisting(ws);
    expect(raced).toBe(true);

    const sealed = await row(id);
    expect(sealed).toMatchObject({ encrypted: true, state: 'complete', name: null, title: null });
    expect(sealed.thumb_key).toMatch(/\.sealed$/);
    const info = (await t.api('files.info', admin.token, { file: id })).body.file;
    expect(info).toMatchObject({ name: 'during-seal.png', title: 'Renamed while sealing' });
    const thumb = await get(info.thumb_360, admin);
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).width).toBe(360);
    const download = await get(info.url_private_download, admin);
    expect((await sharp(Buffer.from(await download.arrayBuffer())).metadata()).width).toBe(720);
    expect(inClear(await storedFiles(dir), ws, PNG_MAGIC)).toEqual([]);
    const message = (await t.api('conversations.history', admin.token, { channel })).body.messages[0];
    expect(message.files[0]).toMatchObject({ id, name: '', ekm: true, thumb_360: info.thumb_360 });
  });

  it('completing a file uploaded before EKM, before the encrypt run reached it, seals it then (no ekm_required)', async () => {
    const { ws, admin, channel } = await place();
    const id = await uploadOnly(admin, 'early.txt', PLAIN);
    await enableEkm(ws); // its run does not run here (no dispatcher)
    const done = await complete(admin, id, channel, 'Early report');
    expect(done.body.ok).toBe(true);
    expect(await row(id)).toMatchObject({ encrypted: true, name: null, title: null });
    expect((await t.api('files.info', admin.token, { file: id })).body.file).toMatchObject({ name: 'early.txt', title: 'Early report' });
    expect(await (await get(done.body.files[0].url_private_download, admin)).text()).toBe(PLAIN);
    expect(inClear(await storedFiles(dir), ws, MARKER)).toEqual([]);
  });

  it('a thumbnail job that read the row before the run sealed it records no thumbnail in clear: it makes a sealed one', async () => {
    const { ws, admin } = await place();
    const id = await uploadOnly(admin, 'before-seal.png', await png());
    await enableEkm(ws);
    const bytes = t.app.get(FileBytes);
    const store = bytes.storeThumbnail.bind(bytes);
    let sealedMeanwhile = false;
    jest.spyOn(bytes, 'storeThumbnail').mockImplementation(async (file, key, data) => {
      if (!sealedMeanwhile) {
        sealedMeanwhile = true;
        await t.app.get(FilesEkm).sealExisting(ws);
      }
      return store(file, key, data);
    });
    expect(await t.app.get(FileThumbnails).make(id)).toBe('made');
    expect(sealedMeanwhile).toBe(true);
    const sealed = await row(id);
    expect(sealed.encrypted).toBe(true);
    expect(sealed.thumb_key.startsWith(sealed.storage_key)).toBe(true); // made from the sealed row
    const info = (await t.api('files.info', admin.token, { file: id })).body.file;
    expect((await sharp(Buffer.from(await (await get(info.thumb_360, admin)).arrayBuffer())).metadata()).width).toBe(360);
    expect(inClear(await storedFiles(dir), ws, PNG_MAGIC)).toEqual([]);
  });

  it('a key service that fails answers ekm_unavailable (503), a refused key ekm_access_denied', async () => {
    const { ws, admin, channel } = await place();
    await enableEkm(ws);
    const id = await uploadOnly(admin, 'guarded.txt', PLAIN);
    const done = await complete(admin, id, channel);
    expect(done.body.ok).toBe(true);
    const url = done.body.files[0].url_private;
    const providers = t.app.get<KeyProviders>(KEY_PROVIDERS);
    const real = providers.local!;
    const failing = (err: Error): KeyProvider => ({
      name: 'local',
      verify: (w, k) => real.verify(w, k),
      wrap: () => Promise.reject(err),
      unwrap: () => Promise.reject(err),
    });
    const forgetKeys = () => (t.app.get(FileBytes) as unknown as { keys: Map<string, Buffer> }).keys.clear();
    try {
      providers.local = failing(new Error('connect ECONNREFUSED 10.0.0.1:443'));
      forgetKeys();
      const info = await t.api('files.info', admin.token, { file: id });
      expect([info.status, info.body]).toEqual([503, { ok: false, error: 'ekm_unavailable' }]);
      const list = await t.api('files.list', admin.token, {});
      expect([list.status, list.body]).toEqual([503, { ok: false, error: 'ekm_unavailable' }]);
      const download = await get(url, admin);
      expect([download.status, await download.json()]).toEqual([503, { ok: false, error: 'ekm_unavailable' }]);
      const upload = await t.api('files.getUploadURLExternal', admin.token, { filename: 'new.txt', length: 5 });
      expect([upload.status, upload.body]).toEqual([503, { ok: false, error: 'ekm_unavailable' }]);

      providers.local = failing(new KeyAccessDenied());
      forgetKeys();
      expect((await t.api('files.info', admin.token, { file: id })).body).toEqual({ ok: false, error: 'ekm_access_denied' });
      expect((await get(url, admin)).status).toBe(403);
      expect((await t.api('files.getUploadURLExternal', admin.token, { filename: 'new.txt', length: 5 })).body).toEqual({
        ok: false,
        error: 'ekm_access_denied',
      });
    } finally {
      providers.local = real;
      forgetKeys();
    }
    expect(await (await get(url, admin)).text()).toBe(PLAIN);
  });
});
