import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { KeyAccessDenied, type KeyProvider, type KeyVerdict } from './key-provider.js';

/**
 * KMS answers that mean the customer took access away (or the box is not theirs): access denied.
 * Anything else (network, throttling, KMSInternalException, KeyUnavailableException) is the service
 * failing, which a retry may cure.
 */
const DENIALS = new Set([
  'AccessDeniedException',
  'DisabledException',
  'KMSInvalidStateException',
  'NotFoundException',
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'InvalidKeyUsageException',
]);
const refusal = (err: unknown): never => {
  throw DENIALS.has((err as Error).name) ? new KeyAccessDenied(`KMS: ${(err as Error).name}`) : err;
};

/**
 * The customer's KEK lives in AWS KMS: data keys are wrapped with Encrypt and unwrapped with
 * Decrypt, bound to the workspace by the encryption context. Revoking the key in KMS (or its grant)
 * makes every body unreadable to us, which is the point of EKM.
 */
export class AwsKmsKeyProvider implements KeyProvider {
  readonly name = 'aws-kms' as const;

  /**
   * `allow`: the key ids or ARNs workspaces may use (AWS_KMS_KEY_ALLOW); an entry ending in `*` is a
   * prefix (`arn:aws:kms:eu-west-1:111122223333:key/*`). The server's credentials may reach other
   * tenants' keys, so an empty list allows none.
   */
  constructor(
    private readonly client: KMSClient,
    private readonly allow: readonly string[] = [],
  ) {}

  allows(keyRef: string): boolean {
    return this.allow.some((entry) => (entry.endsWith('*') ? keyRef.startsWith(entry.slice(0, -1)) : keyRef === entry));
  }

  /** Allowed, and a test data key wraps and unwraps under it for this workspace. */
  async verify(workspace: string, keyRef: string): Promise<KeyVerdict> {
    if (!this.allows(keyRef)) return 'not_allowed';
    const probe = randomBytes(32);
    try {
      const back = await this.unwrap(workspace, keyRef, await this.wrap(workspace, keyRef, probe));
      return back.length === probe.length && timingSafeEqual(back, probe) ? 'ok' : 'unusable';
    } catch {
      return 'unusable';
    }
  }

  async wrap(workspace: string, keyRef: string, dataKey: Buffer): Promise<Buffer> {
    const out = await this.client
      .send(new EncryptCommand({ KeyId: keyRef, Plaintext: dataKey, EncryptionContext: { workspace } }))
      .catch(refusal);
    if (!out.CiphertextBlob) throw new Error('KMS returned no ciphertext');
    return Buffer.from(out.CiphertextBlob);
  }

  async unwrap(workspace: string, keyRef: string, wrapped: Buffer): Promise<Buffer> {
    const out = await this.client
      .send(new DecryptCommand({ KeyId: keyRef, CiphertextBlob: wrapped, EncryptionContext: { workspace } }))
      .catch(refusal);
    if (!out.Plaintext) throw new Error('KMS returned no plaintext');
    return Buffer.from(out.Plaintext);
  }
}
