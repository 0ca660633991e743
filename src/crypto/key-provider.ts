/**
 * Wraps and unwraps data keys with a workspace's key-encryption key (KEK). The KEK never leaves the
 * provider (a KMS) or this process's memory (the local provider). `keyRef` names the workspace's
 * KEK at one version: for the local provider a version label, for AWS KMS a key id or ARN.
 */
export interface KeyProvider {
  readonly name: 'local' | 'aws-kms';
  wrap(workspace: string, keyRef: string, dataKey: Buffer): Promise<Buffer>;
  unwrap(workspace: string, keyRef: string, wrapped: Buffer): Promise<Buffer>;
}

export const KEY_PROVIDERS = Symbol('KEY_PROVIDERS');
export type KeyProviders = Record<KeyProvider['name'], KeyProvider | undefined>;
