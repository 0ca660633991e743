import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { WebClient } from '@slack/web-api';
import { randomBytes } from 'node:crypto';
import { FilesSweep } from '../../src/jobs/files/files-sweep.js';
import { startS3Server, S3_KEY, type S3Server } from '../support/s3-server.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const PLAIN = 'bucket plaintext marker QUOKKA-5521 '.repeat(2000);

describe('files in an S3-compatible bucket (s3rver, started by the test)', () => {
  let s3: S3Server;
  let t: TestApp;
  let bucket: S3Client;
  let ws: string;
  let ada: TestUser;
  let bob: TestUser;
  let channel: string;

  beforeAll(async () => {
    s3 = await startS3Server();
    t = await TestApp.start({ ...s3.env, EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
    bucket = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_KEY },
    });
    ws = await t.newWorkspace();
    [ada, bob] = await Promise.all([t.newUser(ws, 'admin'), t.newUser(ws)]);
    channel = await t.newChannel(ada, 'general', false, [bob]);
  });
  afterAll(async () => {
    await t.close();
    bucket.destroy();
    await s3.stop();
  });

  const local = (url: string) => `${t.url}${new URL(url).pathname}`;
  const get = (url: string, u: TestUser, headers: Record<string, string> = {}) =>
    fetch(local(url), { headers: { authorization: `Bearer ${u.token}`, ...headers } });
  const object = async (key: string) => {
    const out = await bucket.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  };
  const exists = (key: string) =>
    bucket.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key })).then(
      () => true,
      () => false,
    );
  const storageKey = async (id: string) =>
    (await t.pool.query<{ storage_key: string }>('SELECT storage_key FROM files WHERE id = $1', [id])).rows[0].storage_key;

  it('filesUploadV2 streams through the app into the bucket; members download; files.delete removes the object', async () => {
    const client = new WebClient(ada.token, { slackApiUrl: `${t.url}/api/`, retryConfig: { retries: 0 } });
    const res = (await client.filesUploadV2({ channel_id: channel, file: Buffer.from(PLAIN), filename: 'plain.txt' } as never)) as any;
    const file = res.files[0].files[0];
    const key = await storageKey(file.id);
    expect((await object(key)).toString()).toBe(PLAIN);
    const got = await get(file.url_private_download, bob);
    expect(await got.text()).toBe(PLAIN);
    const part = await get(file.url_private, bob, { range: 'bytes=5-14' });
    expect([part.status, await part.text()]).toEqual([206, PLAIN.slice(5, 15)]);
    expect((await t.api('files.delete', ada.token, { file: file.id })).body.ok).toBe(true);
    expect(await exists(key)).toBe(false);
  });

  it('hands out a presigned PUT so the bytes go straight to the bucket, checked at completion', async () => {
    const bytes = randomBytes(50_000);
    const asked = await t.api('files.getUploadURLExternal', ada.token, {
      filename: 'direct.bin',
      length: bytes.length,
      upload_method: 'PUT',
    });
    expect(asked.body.ok).toBe(true);
    expect(asked.body.upload_url.startsWith(s3.endpoint)).toBe(true);
    const put = await fetch(asked.body.upload_url, { method: 'PUT', body: bytes });
    expect(put.status).toBe(200);
    const done = await t.api('files.completeUploadExternal', ada.token, {
      files: JSON.stringify([{ id: asked.body.file_id }]),
      channel_id: channel,
    });
    expect(done.body.ok).toBe(true);
    expect(done.body.files[0]).toMatchObject({ id: asked.body.file_id, size: bytes.length });
    const got = await get(done.body.files[0].url_private, bob);
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('EKM: the object in the bucket lacks the plaintext; revoke refuses, restore serves', async () => {
    // Granted before EKM: its PUT, landing after, would leave plaintext in the bucket.
    const early = await t.api('files.getUploadURLExternal', ada.token, {
      filename: 'early.txt',
      length: PLAIN.length,
      upload_method: 'PUT',
    });
    expect(early.body.upload_url.startsWith(s3.endpoint)).toBe(true);
    const enabled = await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' });
    await waitFor(
      async () => (await t.admin('GET', `/workspaces/${ws}/ekm/runs/${enabled.body.run.id}`)).body.status === 'done',
      20_000,
      'EKM run',
    );
    // Enabling dropped the presigned upload: completing it is refused, and the sweep removes what the PUT left.
    expect((await fetch(early.body.upload_url, { method: 'PUT', body: PLAIN })).status).toBe(200);
    const earlyKey = await storageKey(early.body.file_id);
    const refused = await t.api('files.completeUploadExternal', ada.token, {
      files: JSON.stringify([{ id: early.body.file_id }]),
      channel_id: channel,
    });
    expect(refused.body).toEqual({ ok: false, error: 'upload_invalidated' });
    expect(await exists(earlyKey)).toBe(true);
    await t.app.get(FilesSweep).sweep(new Date(Date.now() + t.config.FILES_ORPHAN_TTL_MS + 60_000));
    expect(await exists(earlyKey)).toBe(false);

    // A presigned PUT would put plaintext in the bucket: an EKM workspace always uploads through the app.
    const asked = await t.api('files.getUploadURLExternal', ada.token, {
      filename: 'sealed.txt',
      length: PLAIN.length,
      upload_method: 'PUT',
    });
    expect(asked.body.upload_url.startsWith(t.url)).toBe(true);
    await fetch(asked.body.upload_url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: PLAIN });
    const done = await t.api('files.completeUploadExternal', ada.token, {
      files: JSON.stringify([{ id: asked.body.file_id }]),
      channel_id: channel,
    });
    const file = done.body.files[0];
    const stored = await object(await storageKey(file.id));
    expect(stored.length).toBeGreaterThan(PLAIN.length);
    expect(stored.includes('QUOKKA')).toBe(false);

    const revoked = await t.admin('POST', `/workspaces/${ws}/ekm/revocations`, {});
    expect((await get(file.url_private, bob)).status).toBe(403);
    await t.admin('DELETE', `/workspaces/${ws}/ekm/revocations/${revoked.body.revocation.id}`);
    expect(await (await get(file.url_private, bob)).text()).toBe(PLAIN);
  });
});
