import { issueToken } from './tokens.js';
import { clearedSessionCookie, csrfMatches, csrfTokenFor, sessionCookie, sessionFromCookie } from './web-sessions.js';

describe('web session cookie and CSRF token', () => {
  it('the cookie is HttpOnly, SameSite=Lax, Path=/, and Secure only for an https PUBLIC_URL', () => {
    const { token } = issueToken('session');
    expect(sessionCookie(token, 30_000, false)).toBe(`atomcast_session=${token}; Max-Age=30; Path=/; HttpOnly; SameSite=Lax`);
    expect(sessionCookie(token, 30_000, true)).toBe(`atomcast_session=${token}; Max-Age=30; Path=/; HttpOnly; Secure; SameSite=Lax`);
    expect(clearedSessionCookie(false)).toBe('atomcast_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax');
    expect(sessionFromCookie(`theme=dark; atomcast_session=${token}`)).toBe(token);
    expect(sessionFromCookie('theme=dark')).toBeUndefined();
  });

  it('the CSRF token is bound to one session and never made for an API token', () => {
    const a = issueToken('session').token;
    const b = issueToken('session').token;
    expect(csrfMatches(a, csrfTokenFor(a))).toBe(true);
    expect(csrfMatches(a, csrfTokenFor(b))).toBe(false);
    expect(csrfMatches(a, undefined)).toBe(false);
    expect(csrfTokenFor(issueToken('api').token)).toBeUndefined();
  });
});
