import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsKeyProvider } from '../../src/crypto/aws-kms-key-provider.js';
import { newDataKey } from '../../src/crypto/envelope.js';

/**
 * A fake of the two KMS calls the provider makes (AWS JSON 1.1 protocol): Encrypt and Decrypt. It
 * binds a ciphertext to its key and encryption context like KMS does, and can disable a key.
 */
function fakeKms() {
  const disabled = new Set<string>();
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
        if (JSON.stringify(sealed.c) !== JSON.stringify(input.EncryptionContext)) {
          return reply(400, { __type: 'InvalidCiphertextException', message: 'context mismatch' });
        }
        return reply(200, { Plaintext: sealed.p, KeyId: sealed.k });
      }
      reply(400, { __type: 'UnknownOperationException' });
    });
  });
  return { server, disabled, calls };
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
    provider = new AwsKmsKeyProvider(client);
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
    await expect(provider.unwrap('T2', 'alias/acme', wrapped)).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  });

  it('fails once the customer disables the key in KMS', async () => {
    const wrapped = await provider.wrap('T1', 'alias/revoked', newDataKey());
    kms.disabled.add('alias/revoked');
    await expect(provider.unwrap('T1', 'alias/revoked', wrapped)).rejects.toMatchObject({ name: 'DisabledException' });
  });
});
