import type { Socket } from 'socket.io';
import type { CredentialKind } from '../workspaces/tokens.js';
import { sessionFromCookie } from '../workspaces/web-sessions.js';
import type { Caller } from '../workspaces/workspaces.service.js';
import { isObject } from './payloads.js';

/**
 * The credential a handshake presents, or the connect_error for it. `auth.token` is an API token;
 * without it, the web session cookie, from our own origin only (a cookie rides along on any site's
 * request; browsers send Origin on every WebSocket handshake and the header tells them apart).
 */
export function handshakeCredential(socket: Socket, publicOrigin: string): { value: string; kind: CredentialKind } | { error: string } {
  const auth: unknown = socket.handshake.auth;
  const token = isObject(auth) ? auth.token : undefined;
  if (token !== undefined) return typeof token === 'string' && token ? { value: token, kind: 'api' } : { error: 'not_authed' };
  const session = sessionFromCookie(socket.handshake.headers.cookie);
  if (!session) return { error: 'not_authed' };
  if (socket.handshake.headers.origin !== publicOrigin) return { error: 'invalid_origin' };
  return { value: session, kind: 'session' };
}

/** `revoked {reason}`, then the socket is closed (the client does not reconnect by itself after that). */
export function expel(socket: Socket, reason: string): void {
  if (socket.disconnected) return;
  socket.emit('revoked', { reason });
  socket.disconnect(true);
}

/** A web session's socket closes when the session expires (timers reach ~24 days; commands check anyway). */
export function expireWith(socket: Socket, caller: Caller): void {
  if (!caller.expiresAt) return;
  const ms = caller.expiresAt.getTime() - Date.now();
  if (ms > 2 ** 31 - 1) return;
  const timer = setTimeout(() => expel(socket, 'session_expired'), Math.max(ms, 0));
  timer.unref();
  socket.once('disconnect', () => clearTimeout(timer));
}
