import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';
import { parseToken } from './tokens.js';

// A web session is a credential in the tokens table (kind 'session'), carried by an HttpOnly cookie.
// A request that carries the cookie also proves it was written by our own page with the header
// X-CSRF-Token: an HMAC keyed by the session's secret, so it needs no server key, is bound to the
// session, and cannot be computed by another site (which can send the cookie but never read it).

export const SESSION_COOKIE = 'atomcast_session';
export const CSRF_HEADER = 'x-csrf-token';

/** The session credential in a Cookie header, if any (shape not checked here). */
export function sessionFromCookie(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  const value = parseCookie(cookieHeader)[SESSION_COOKIE];
  return value || undefined;
}

export function csrfTokenFor(session: string): string | undefined {
  const parsed = parseToken(session);
  if (!parsed || parsed.kind !== 'session') return undefined;
  return createHmac('sha256', parsed.secret).update(`csrf:${parsed.id}`).digest('base64url');
}

/** Constant-time check of the X-CSRF-Token header against the session it claims to belong to. */
export function csrfMatches(session: string, header: unknown): boolean {
  const expected = csrfTokenFor(session);
  if (!expected || typeof header !== 'string' || header.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(header), Buffer.from(expected));
}

/** Set-Cookie for a new session: HttpOnly (page script never reads it), SameSite=Lax, Secure on https. */
export function sessionCookie(session: string, maxAgeMs: number, secure: boolean): string {
  return stringifySetCookie({
    name: SESSION_COOKIE,
    value: session,
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    maxAge: Math.floor(maxAgeMs / 1000),
  });
}

/** Set-Cookie that removes the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return stringifySetCookie({ name: SESSION_COOKIE, value: '', httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: 0 });
}

/** A sign-in code: 32 random bytes, base64url (43 characters); only its sha256 is stored. */
export function newSigninCode(): { code: string; hash: Buffer } {
  const code = randomBytes(32).toString('base64url');
  return { code, hash: hashSigninCode(code) };
}

export function hashSigninCode(code: string): Buffer {
  return createHash('sha256').update(code).digest();
}

export const isSigninCodeShape = (code: unknown): code is string => typeof code === 'string' && /^[A-Za-z0-9_-]{43}$/.test(code);
