import { SlackError } from '../domain/slack-error.js';

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
  /** Both throw KeyAccessDenied when the key is refused; any other error is the service failing. */
  wrap(workspace: string, keyRef: string, dataKey: Buffer): Promise<Buffer>;
  unwrap(workspace: string, keyRef: string, wrapped: Buffer): Promise<Buffer>;
}

export const KEY_PROVIDERS = Symbol('KEY_PROVIDERS');
export type KeyProviders = Record<KeyProvider['name'], KeyProvider | undefined>;

/** The provider refuses this key (revoked or disabled in the KMS, no grant, a box that does not open): `ekm_access_denied`. */
export class KeyAccessDenied extends Error {
  constructor(message = 'the key provider refused to unwrap the key') {
    super(message);
    this.name = 'KeyAccessDenied';
  }
}

/**
 * The key service failed (unreachable, throttled, erroring): nothing says the key was revoked, so
 * the caller is told to retry (`ekm_unavailable`, HTTP 503), never that access is denied.
 */
export class KeyServiceUnavailable extends SlackError {
  constructor(readonly reason: unknown) {
    super('ekm_unavailable', 503);
    this.name = 'KeyServiceUnavailable';
  }
}
