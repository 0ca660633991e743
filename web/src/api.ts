// The Web API and the sign-in routes, through the session cookie plus the CSRF header
// (the cookie is HttpOnly: this module never sees it). A 401 or a dead session sends the
// page to the sign-in screen.

export interface Me {
  user: { id: string; name: string; real_name?: string };
  workspace: { id: string; name: string };
}

export class ApiError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

let csrf = '';
let signedOut: () => void = () => {};

/** Called once with what to do when the server no longer knows the session. */
export function onSignedOut(handler: () => void): void {
  signedOut = handler;
}

const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked']);

async function post(path: string, body: unknown, withCsrf: boolean): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (withCsrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body) });
  const json = (await res.json().catch(() => ({ ok: false, error: `http_${res.status}` }))) as Record<string, unknown>;
  if (!json.ok) throw new ApiError(String(json.error ?? `http_${res.status}`));
  return json;
}

/** Calls a Slack method; throws ApiError with Slack's error code. */
export async function api<T = Record<string, unknown>>(method: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    return (await post(`/api/${method}`, args, true)) as T;
  } catch (err) {
    if (err instanceof ApiError && AUTH_ERRORS.has(err.code)) signedOut();
    throw err;
  }
}

function keep(body: Record<string, unknown>): Me {
  csrf = String(body.csrf_token ?? '');
  return { user: body.user as Me['user'], workspace: body.workspace as Me['workspace'] };
}

/** The current session (fresh CSRF token), or null when signed out. */
export async function currentSession(): Promise<Me | null> {
  const res = await fetch('/auth/session', { credentials: 'same-origin' });
  if (!res.ok) return null;
  const body = (await res.json()) as Record<string, unknown>;
  return body.ok ? keep(body) : null;
}

/** Exchanges a sign-in link's one-time code for a session. */
export async function signIn(code: string): Promise<Me> {
  return keep(await post('/auth/signin', { code }, false));
}

export async function signOut(): Promise<void> {
  await post('/auth/signout', {}, true).catch(() => undefined);
  csrf = '';
}
