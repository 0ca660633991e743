import { WebClient } from '@slack/web-api';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { EventStore } from '../../src/event-store/event-store.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const MAX = 1024 * 1024;

/** Every file stored under the files directory (bytes, thumbnails), as paths relative to it. */
async function stored(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe('files: uploads the Slack way, downloads only for those who may see them', () => {
  let t: TestApp;
  let dir: string;
  let ws: string;
  let ada: TestUser;
  let bob: TestUser;
  let eve: TestUser; // not in the private channel
  let stranger: TestUser; // another workspace
  let general: string;
  let secret: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atomcast-files-'));
    t = await TestApp.start({ FILES_DIR: dir, FILES_MAX_BYTES: String(MAX) });
    ws = await t.newWorkspace();
    [ada, bob, eve] = await Promise.all([t.newUser(ws, 'admin'), t.newUser(ws), t.newUser(ws)]);
    stranger = await t.newUser(await t.newWorkspace('Other'));
    general = await t.newChannel(ada, 'general', false, [bob, eve]);
    secret = await t.newChannel(ada, 'secret', true, [bob]);
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  const client = (u: TestUser) => new WebClient(u.token, { slackApiUrl: `${t.url}/api/`, retryConfig: { retries: 0 } });
  /** url_private as served by this test's app (the URLs name PUBLIC_URL). */
  const local = (url: string) => `${t.url}${new URL(url).pathname}`;
  const get = (url: string, u?: TestUser, headers: Record<string, string> = {}) =>
    fetch(local(url), { headers: { ...(u ? { authorization: `Bearer ${u.token}` } : {}), ...headers } });

  async function upload(u: TestUser, args: Record<string, unknown>) {
    const res = (await client(u).filesUploadV2(args as never)) as unknown as { ok: boolean; files: Array<{ files: any[] }> };
    expect(res.ok).toBe(true);
    return res.files[0].files[0];
  }

  it('filesUploadV2 from the official client shares a file in a channel, with its comment, and members download it', async () => {
    const bytes = Buffer.from('quarterly numbers: 42\n'.repeat(1000));
    const file = await upload(ada, { channel_id: general, file: bytes, filename: 'report.txt', initial_comment: 'the report' });
    expect(file).toMatchObject({ name: 'report.txt', title: 'report.txt', size: bytes.length, user: ada.id, mode: 'hosted' });

    const history = await t.api('conversations.history', bob.token, { channel: general });
    const msg = history.body.messages[0];
    expect(msg).toMatchObject({ text: 'the report', user: ada.id, upload: true });
    expect(msg.files).toEqual([expect.objectContaining({ id: file.id, name: 'report.txt', size: bytes.length })]);

    // The stream carries the message with its files, as sockets and replays deliver it.
    const events = await t.app.get(EventStore).readChannel(general, 0, 1000);
    const posted = events.find((e) => e.type === 'message' && e.ts === msg.ts);
    expect(events[events.indexOf(posted!) + 1]).toMatchObject({
      type: 'file_shared',
      file_id: file.id,
      user_id: ada.id,
      channel_id: general,
    });
    expect(posted).toMatchObject({
      type: 'message',
      user: ada.id,
      text: 'the report',
      upload: true,
      files: [expect.objectContaining({ id: file.id, name: 'report.txt' })],
    });

    const info = await t.api('files.info', bob.token, { file: file.id });
    expect(info.body.ok).toBe(true);
    expect(info.body.file).toMatchObject({ id: file.id, name: 'report.txt', channels: [general] });

    const res = await get(file.url_private_download, bob);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="report.txt"/);
    // Someone of the workspace outside the channel still sees a public channel's file; nobody without a token does.
    expect((await get(file.url_private, eve)).status).toBe(200);
    expect((await get(file.url_private)).status).toBe(401);
    expect((await get(file.url_private, { ...bob, token: 'xoxp-bogus' })).status).toBe(401);
  });

  it('shares into a thread', async () => {
    const parent = (await t.api('chat.postMessage', ada.token, { channel: general, text: 'thread here' })).body.ts as string;
    const file = await upload(bob, { channel_id: general, thread_ts: parent, file: Buffer.from('in the thread'), filename: 'note.txt' });
    const replies = await t.api('conversations.replies', ada.token, { channel: general, ts: parent });
    expect(replies.body.messages).toHaveLength(2);
    expect(replies.body.messages[1]).toMatchObject({ user: bob.id, thread_ts: parent, files: [expect.objectContaining({ id: file.id })] });
    const res = await get(file.url_private_download, ada);
    expect(await res.text()).toBe('in the thread');
  });

  it('refuses a private channel file to a non-member and every file to another workspace (url_private and files.info)', async () => {
    const file = await upload(bob, { channel_id: secret, file: Buffer.from('the secret plan'), filename: 'plan.txt' });
    expect((await get(file.url_private_download, ada)).status).toBe(200);
    for (const outsider of [eve, stranger]) {
      const res = await get(file.url_private_download, outsider);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ ok: false, error: 'file_not_found' });
      expect((await get(file.url_private, outsider)).status).toBe(404);
      expect((await t.api('files.info', outsider.token, { file: file.id })).body).toEqual({ ok: false, error: 'file_not_found' });
      const listed = await t.api('files.list', outsider.token, {});
      expect(listed.body.files.map((f: { id: string }) => f.id)).not.toContain(file.id);
    }
    // Sharing into a channel one is not in is refused, and the file stays unshared.
    const res = await client(eve)
      .filesUploadV2({ channel_id: secret, file: Buffer.from('x'), filename: 'x.txt' } as never)
      .catch((e: { data?: unknown }) => e.data);
    expect(res).toMatchObject({ ok: false, error: 'channel_not_found' });
  });

  it("search.all's files section finds a file by name, only for those who may read its channel", async () => {
    const file = await upload(bob, { channel_id: secret, file: Buffer.from('roadmap'), filename: 'zanzibar-roadmap.txt' });
    const found = async (u: TestUser) => {
      const res = await t.api('search.all', u.token, { query: 'zanzibar' });
      expect(res.body.ok).toBe(true);
      return res.body.files.matches.map((f: { id: string }) => f.id);
    };
    expect(await found(ada)).toEqual([file.id]);
    // Modifiers alone name no file (an empty name filter would list them all).
    const onlyModifiers = await t.api('search.all', ada.token, { query: `in:#secret from:<@${bob.id}>` });
    expect(onlyModifiers.body.files).toMatchObject({ total: 0, matches: [] });
    expect(await found(eve)).toEqual([]);
    expect(await found(stranger)).toEqual([]);
  });

  it('serves HTML as an attachment with nosniff and a sandboxing CSP, whatever its name says', async () => {
    const html = '<html><script>alert(document.cookie)</script></html>';
    const file = await upload(ada, { channel_id: general, file: Buffer.from(html), filename: 'page.html' });
    for (const url of [file.url_private, file.url_private_download]) {
      const res = await get(url, bob);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toMatch(/sandbox/);
      expect(await res.text()).toBe(html);
    }
    // A PNG signature is not enough to be served inline when the bytes are not an image... but an image named .txt is one.
    const png = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#00f' } })
      .png()
      .toBuffer();
    const renamed = await upload(ada, { channel_id: general, file: png, filename: 'innocent.txt' });
    const res = await get(renamed.url_private, bob);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toMatch(/^inline;/);
  });

  it('makes a thumbnail of an image by a job, served to members', async () => {
    const png = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#c33' } })
      .png()
      .toBuffer();
    const file = await upload(ada, { channel_id: general, file: png, filename: 'photo.png' });
    let info: Record<string, any> = {};
    await waitFor(
      async () => !!(info = (await t.api('files.info', bob.token, { file: file.id })).body.file).thumb_360,
      20_000,
      'thumbnail',
    );
    expect([info.thumb_360_w, info.thumb_360_h]).toEqual([360, 240]);
    const res = await get(info.thumb_360, bob);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 360, 240]);
    expect((await get(info.thumb_360, stranger)).status).toBe(404);
    const image = await get(file.url_private, bob);
    expect(image.headers.get('content-disposition')).toMatch(/^inline;/);
  });

  it('answers range requests', async () => {
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const file = await upload(ada, { channel_id: general, file: bytes, filename: 'media.bin' });
    const part = await get(file.url_private, bob, { range: 'bytes=1000-70999' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-70999/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1000, 71000))).toBe(true);
    const tail = await get(file.url_private, bob, { range: 'bytes=-10' });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(bytes.length - 10))).toBe(true);
    const past = await get(file.url_private, bob, { range: `bytes=${bytes.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
  });

  it('refuses files over FILES_MAX_BYTES: file_too_large before and while uploading, nothing kept', async () => {
    const before = await stored(dir);
    const asked = await t.api('files.getUploadURLExternal', ada.token, { filename: 'big.bin', length: MAX + 1 });
    expect(asked.body).toEqual({ ok: false, error: 'file_too_large' });
    // A client that announces less and sends more is cut off at the limit.
    const url = (await t.api('files.getUploadURLExternal', ada.token, { filename: 'big.bin', length: 10 })).body.upload_url as string;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(MAX + 4096),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ ok: false, error: 'file_too_large' });
    expect(await stored(dir)).toEqual(before);
    // A bad upload URL stores nothing either.
    const bad = await fetch(url.replace(/k=[^&]+/, 'k=wrong'), {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'x',
    });
    expect(bad.status).toBe(404);
  });

  it('refuses bad completions and writes nothing', async () => {
    const counts = await t.tableCounts();
    const { file_id } = (await t.api('files.getUploadURLExternal', ada.token, { filename: 'a.txt', length: 1 })).body;
    for (const files of ['not json', '[]', JSON.stringify([{ id: 'FNOPE' }]), JSON.stringify([{ id: file_id }])]) {
      const res = await t.api('files.completeUploadExternal', ada.token, { files, channel_id: general });
      expect(res.body.ok).toBe(false);
    }
    // Another user's upload cannot be completed by someone else.
    const theirs = (await t.api('files.getUploadURLExternal', bob.token, { filename: 'b.txt', length: 1 })).body;
    await fetch(theirs.upload_url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'b' });
    const stolen = await t.api('files.completeUploadExternal', ada.token, {
      files: JSON.stringify([{ id: theirs.file_id }]),
      channel_id: general,
    });
    expect(stolen.body).toEqual({ ok: false, error: 'file_not_found' });
    expect(await t.tableCounts()).toEqual(counts);
  });

  it('lists by channel, user and type, paginated', async () => {
    const page1 = await t.api('files.list', bob.token, { channel: general, count: 2, page: 1 });
    const page2 = await t.api('files.list', bob.token, { channel: general, count: 2, page: 2 });
    expect(page1.body.paging).toMatchObject({ count: 2, page: 1 });
    const total = page1.body.paging.total as number;
    expect(total).toBeGreaterThanOrEqual(5);
    const ids = [...page1.body.files, ...page2.body.files].map((f: { id: string }) => f.id);
    expect(new Set(ids).size).toBe(4);
    const images = await t.api('files.list', bob.token, { types: 'images' });
    expect(images.body.files.length).toBeGreaterThanOrEqual(2);
    expect(images.body.files.every((f: { mimetype: string }) => f.mimetype.startsWith('image/'))).toBe(true);
    const byBob = await t.api('files.list', ada.token, { user: bob.id });
    expect(byBob.body.files.every((f: { user: string }) => f.user === bob.id)).toBe(true);
    expect((await t.api('files.list', bob.token, { types: 'nonsense' })).body).toEqual({ ok: false, error: 'invalid_arguments' });
  });

  it('files.delete removes the bytes from storage and leaves a tombstone in the message', async () => {
    const file = await upload(bob, { channel_id: general, file: Buffer.from('delete me'), filename: 'gone.txt' });
    const ours = (await stored(dir)).filter((p) => p.includes(file.id));
    expect(ours.length).toBe(1);
    expect((await t.api('files.delete', eve.token, { file: file.id })).body).toEqual({ ok: false, error: 'cant_delete_file' });
    expect((await t.api('files.delete', bob.token, { file: file.id })).body).toEqual({ ok: true });
    expect((await stored(dir)).filter((p) => p.includes(file.id))).toEqual([]);
    expect((await t.api('files.info', bob.token, { file: file.id })).body).toEqual({ ok: false, error: 'file_not_found' });
    expect((await get(file.url_private, bob)).status).toBe(404);
    const history = await t.api('conversations.history', bob.token, { channel: general, limit: 1 });
    expect(history.body.messages[0].files).toEqual([{ id: file.id, mode: 'tombstone' }]);
  });

  it('serves url_private to a web session (cookie, no token)', async () => {
    const file = await upload(ada, { channel_id: general, file: Buffer.from('for the browser'), filename: 'web.txt' });
    const link = await t.admin('POST', `/workspaces/${ws}/users/${bob.id}/sign-in-links`, undefined, ada.token);
    const code = new URLSearchParams(new URL(link.body.url as string).hash.slice(1)).get('code');
    const signin = await fetch(`${t.url}/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    const cookie = signin.headers.get('set-cookie')!.split(';')[0];
    const res = await get(file.url_private, undefined, { cookie });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('for the browser');
  });
});
