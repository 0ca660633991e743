/**
 * Wraps and unwraps data keys with a workspace's key-encryption key (KEK). The KEK never leaves the
 * provider (a KMS) or this process's memory (the local provider). `keyRef` names the workspace's
 * KEK at one version: for the local provider a version label, for AWS KMS a key id or ARN.
 */
/** Whether a workspace may use a key: `not_allowed` outside the operator's allow list, `unusable` when a test wrap fails. */
export type KeyVerdict = 'ok' | 'not_allowed' | 'unusable';

export interface KeyProvider {
  readonly name: 'local' | 'aws-kms';
  /** Checked before a workspace is pointed at `keyRef` (enable, rotate to another key). */
  verify(workspace: string, keyRef: string): Promise<KeyVerdict>;
  wrap(workspace: string, keyRef: string, dataKey: Buffer): Promise<Buffer>;
  unwrap(workspace: string, keyRef: string, wrapped: Buffer): Promise<Buffer>;
}

export const KEY_PROVIDERS = Symbol('KEY_PROVIDERS');
export type KeyProviders = Record<KeyProvider['name'], KeyProvider | undefined>;
