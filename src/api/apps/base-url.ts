import type { FastifyRequest } from 'fastify';

/** The origin the caller reached us at (behind a proxy: its forwarded host and scheme; trustProxy is on). */
export function baseUrl(req: FastifyRequest, websocket = false): string {
  const secure = req.protocol === 'https';
  const scheme = websocket ? (secure ? 'wss' : 'ws') : secure ? 'https' : 'http';
  return `${scheme}://${req.host}`;
}
