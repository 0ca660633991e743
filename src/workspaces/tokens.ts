import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { newTokenId } from '../domain/ids.js';

// A user token is "xoxp-<id>-<secret>", a web session "xoxc-<id>-<secret>" (it lives only in an
// HttpOnly cookie). The id finds the row; only sha256(secret) is stored, and it is compared in
// constant time, so neither the database nor a timing probe reveals a usable credential.

/**
 * What a credential is: a user's API token (Bearer, never expires), a web session (cookie, expires),
 * an app's bot token (acts as its bot user) or an app-level token (Socket Mode only).
 */
export type CredentialKind = 'api' | 'session' | 'bot' | 'app';

const PREFIX: Record<CredentialKind, string> = { api: 'xoxp', session: 'xoxc', bot: 'xoxb', app: 'xapp' };
const KIND_OF: Record<string, CredentialKind> = { xoxp: 'api', xoxc: 'session', xoxb: 'bot', xapp: 'app' };

export interface IssuedToken {
  id: string;
  token: string;
  secretHash: Buffer;
}

export function issueToken(kind: CredentialKind = 'api'): IssuedToken {
  const id = newTokenId();
  const secret = randomBytes(24).toString('base64url');
  return { id, token: `${PREFIX[kind]}-${id}-${secret}`, secretHash: hashSecret(secret) };
}

export function parseToken(token: string): { kind: CredentialKind; id: string; secret: string } | undefined {
  const m = /^(xoxp|xoxc|xoxb|xapp)-([0-9a-z]{12})-([A-Za-z0-9_-]{32})$/.exec(token);
  return m ? { kind: KIND_OF[m[1]], id: m[2], secret: m[3] } : undefined;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const hash = hashSecret(secret);
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash);
}

/** Constant-time comparison of two strings of any length (the operator's ADMIN_TOKEN). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(hashSecret(given), hashSecret(expected));
}
