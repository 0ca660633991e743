import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { newTokenId } from '../domain/ids.js';

// A user token is "xoxp-<id>-<secret>". The id finds the row; only sha256(secret) is stored, and it
// is compared in constant time, so neither the database nor a timing probe reveals a usable token.

export interface IssuedToken {
  id: string;
  token: string;
  secretHash: Buffer;
}

export function issueToken(): IssuedToken {
  const id = newTokenId();
  const secret = randomBytes(24).toString('base64url');
  return { id, token: `xoxp-${id}-${secret}`, secretHash: hashSecret(secret) };
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = /^xoxp-([0-9a-z]{12})-([A-Za-z0-9_-]{32})$/.exec(token);
  return m ? { id: m[1], secret: m[2] } : undefined;
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
