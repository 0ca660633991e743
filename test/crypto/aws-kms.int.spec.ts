import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsKeyProvider } from '../../src/crypto/aws-kms-key-provider.js';
import { newDataKey } from '../../src/crypto/envelope.js';
import { KeyAccessDenied } from '../../src/crypto/key-provider.js';
import { TestApp } from '../support/test-app.js';

/**
 * A fake of the two KMS calls the provider makes (AWS JSON 1.1 protocol): Encrypt and Decrypt. It
 * binds a ciphertext to its key and encryption context like KMS does, and can disable a key.
 */
function fakeKms() {
  const disabled = new Set<string>();
  /** Keys whose Decrypt the service fails (KMSInternalException, HTTP 500): the service, not the key. */
  const failing = new Set<string>();
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']);
      const input = JSON.parse(body) as Record<string, any>;
      calls.push(target);
      const reply = (status: number, payload: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (target === 'TrentService.Encrypt') {
        if (disabled.has(input.KeyId)) return reply(400, { __type: 'DisabledException', message: 'key disabled' });
        const blob = Buffer.from(JSON.stringify({ k: input.KeyId, c: input.EncryptionContext, p: input.Plaintext })).toString('base64');
        return reply(200, { CiphertextBlob: blob, KeyId: input.KeyId });
      }
      if (target === 'TrentService.Decrypt') {
        const sealed = JSON.parse(Buffer.from(input.CiphertextBlob, 'base64').toString());
        if (disabled.has(sealed.k)) return reply(400, { __type: 'DisabledException', message: 'key disabled' });
        if (failing.has(sealed.k)) return reply(500, { __type: 'KMSInternalException', message: 'internal error' });
        if (JSON.stringify(sealed.c) !== JSON.stringify(input.EncryptionContext)) {
          return reply(400, { __type: 'InvalidCiphertextException', message: 'context mismatch' });
        }
        return reply(200, { Plaintext: sealed.p, KeyId: sealed.k });
      }
      reply(400, { __type: 'UnknownOperationException' });
    });
  });
  return { server, disabled, failing, calls };
}

describe('AWS KMS key provider (against a fake KMS)', () => {
  let kms: ReturnType<typeof fakeKms>;
  let provider: AwsKmsKeyProvider;
  let client: KMSClient;

  beforeAll(async () => {
    kms = fakeKms();
    await new Promise<void>((r) => kms.server.listen(0, '127.0.0.1', r));
    const { port } = kms.server.address() as AddressInfo;
    client = new KMSClient({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    provider = new AwsKmsKeyProvider(client, ['alias/acme', 'alias/revoked', 'arn:aws:kms:eu-west-1:111122223333:key/*']);
  });
  afterAll(async () => {
    client.destroy(); // its keep-alive sockets would hold the worker open
    kms.server.closeAllConnections();
    await new Promise<void>((r) => (kms.server as Server).close(() => r()));
  });

  it('wraps and unwraps a data key bound to the workspace', async () => {
    const key = newDataKey();
    const wrapped = await provider.wrap('T1', 'alias/acme', key);
    expect(wrapped.includes(key)).toBe(false);
    expect(await provider.unwrap('T1', 'alias/acme', wrapped)).toEqual(key);
    expect(kms.calls).toEqual(['TrentService.Encrypt', 'TrentService.Decrypt']);
  });

  it('refuses a wrapped key presented for another workspace', async () => {
    const wrapped = await provider.wrap('T1', 'alias/acme', newDataKey());
    await expect(provider.unwrap('T2', 'alias/acme', wrapped)).rejects.toMatchObject({
      name: 'KeyAccessDenied',
      message: 'KMS: InvalidCiphertextException',
    });
  });

  it('fails once the customer disables the key in KMS', async () => {
    const wrapped = await provider.wrap('T1', 'alias/revoked', newDataKey());
    kms.disabled.add('alias/revoked');
    await expect(provider.unwrap('T1', 'alias/revoked', wrapped)).rejects.toMatchObject({
      name: 'KeyAccessDenied',
      message: 'KMS: DisabledException',
    });
  });

  it('a KMS that fails is not a refusal: the error is not KeyAccessDenied (the caller answers ekm_unavailable)', async () => {
    const wrapped = await provider.wrap('T1', 'alias/acme', newDataKey());
    kms.failing.add('alias/acme');
    try {
      const err = await provider.unwrap('T1', 'alias/acme', wrapped).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(KeyAccessDenied);
      expect((err as Error).name).toBe('KMSInternalException');
    } finally {
      kms.failing.delete('alias/acme');
    }
  });

  it('verifies a key before use: outside the allow list without calling KMS, then by a test wrap', async () => {
    const before = kms.calls.length;
    expect(await provider.verify('T1', 'arn:aws:kms:eu-west-1:999999999999:key/other-tenant')).toBe('not_allowed');
    expect(await provider.verify('T1', 'alias/acme-other')).toBe('not_allowed');
    expect(kms.calls.length).toBe(before);
    expect(await provider.verify('T1', 'arn:aws:kms:eu-west-1:111122223333:key/mine')).toBe('ok');
    kms.disabled.add('arn:aws:kms:eu-west-1:111122223333:key/off');
    expect(await provider.verify('T1', 'arn:aws:kms:eu-west-1:111122223333:key/off')).toBe('unusable');
    expect(await new AwsKmsKeyProvider(client).verify('T1', 'alias/acme')).toBe('not_allowed'); // no list: nothing allowed
  });

  it('the admin API refuses a key id outside AWS_KMS_KEY_ALLOW (403) and an unusable one (400), writing nothing', async () => {
    const { port } = kms.server.address() as AddressInfo;
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
    const t = await TestApp.start({
      AWS_KMS_REGION: 'eu-west-1',
      AWS_KMS_ENDPOINT: `http://127.0.0.1:${port}`,
      AWS_KMS_KEY_ALLOW: 'arn:aws:kms:eu-west-1:111122223333:key/*, alias/acme',
      JOBS_DISPATCHER_ENABLED: 'false',
    });
    try {
      const ws = await t.newWorkspace();
      const enable = (key_id: string) => t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'aws-kms', key_id });
      const before = await t.tableCounts();
      expect((await enable('arn:aws:kms:eu-west-1:999999999999:key/other-tenant')).status).toBe(403);
      kms.disabled.add('arn:aws:kms:eu-west-1:111122223333:key/gone');
      expect((await enable('arn:aws:kms:eu-west-1:111122223333:key/gone')).status).toBe(400);
      expect(await t.tableCounts()).toEqual(before);
      expect((await t.pool.query('SELECT 1 FROM ekm_workspaces')).rowCount).toBe(0);
      expect((await enable('arn:aws:kms:eu-west-1:111122223333:key/mine')).status).toBe(202);
      expect((await t.pool.query('SELECT key_ref FROM ekm_workspaces')).rows).toEqual([
        { key_ref: 'arn:aws:kms:eu-west-1:111122223333:key/mine' },
      ]);
    } finally {
      await t.close();
      for (const [name, value] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
