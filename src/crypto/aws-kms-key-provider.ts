import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { KeyProvider } from './key-provider.js';

/**
 * The customer's KEK lives in AWS KMS: data keys are wrapped with Encrypt and unwrapped with
 * Decrypt, bound to the workspace by the encryption context. Revoking the key in KMS (or its grant)
 * makes every body unreadable to us, which is the point of EKM.
 */
export class AwsKmsKeyProvider implements KeyProvider {
  readonly name = 'aws-kms' as const;

  constructor(private readonly client: KMSClient) {}

  async wrap(workspace: string, keyRef: string, dataKey: Buffer): Promise<Buffer> {
    const out = await this.client.send(new EncryptCommand({ KeyId: keyRef, Plaintext: dataKey, EncryptionContext: { workspace } }));
    if (!out.CiphertextBlob) throw new Error('KMS returned no ciphertext');
    return Buffer.from(out.CiphertextBlob);
  }

  async unwrap(workspace: string, keyRef: string, wrapped: Buffer): Promise<Buffer> {
    const out = await this.client.send(new DecryptCommand({ KeyId: keyRef, CiphertextBlob: wrapped, EncryptionContext: { workspace } }));
    if (!out.Plaintext) throw new Error('KMS returned no plaintext');
    return Buffer.from(out.Plaintext);
  }
}
