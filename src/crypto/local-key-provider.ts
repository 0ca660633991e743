import { hkdfSync } from 'node:crypto';
import { open, seal } from './envelope.js';
import { KeyAccessDenied, type KeyProvider, type KeyVerdict } from './key-provider.js';

/**
 * KEKs derived from one master key (EKM_LOCAL_MASTER_KEY or a file) with HKDF per workspace and
 * version: rotating to a new version gives a new KEK without storing any key material.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly name = 'local' as const;

  constructor(private readonly masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('the local master key must be 32 bytes');
  }

  private kek(workspace: string, keyRef: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.masterKey, Buffer.from(workspace), Buffer.from(`atomcast-kek:${keyRef}`), 32));
  }

  /** Every local KEK derives from the node's master key: nothing to restrict or reach. */
  async verify(): Promise<KeyVerdict> {
    return 'ok';
  }

  async wrap(workspace: string, keyRef: string, dataKey: Buffer): Promise<Buffer> {
    return seal(this.kek(workspace, keyRef), dataKey, `dek:${workspace}:${keyRef}`);
  }

  /** A wrapped key that does not open under this node's KEK (another master key, tampered): refused. */
  async unwrap(workspace: string, keyRef: string, wrapped: Buffer): Promise<Buffer> {
    try {
      return open(this.kek(workspace, keyRef), wrapped, `dek:${workspace}:${keyRef}`);
    } catch {
      throw new KeyAccessDenied();
    }
  }
}
