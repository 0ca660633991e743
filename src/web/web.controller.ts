import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, posix, resolve, sep } from 'node:path';
import { Controller, Get, Inject, Logger, NotFoundException, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG, type Config } from '../config/config.js';

/** Paths that belong to the server: never answered with the client's index.html. */
const SERVER_PATHS = /^\/(api|admin|auth|socket\.io|healthz|readyz)(\/|$)/;

/** find-my-way's default `maxParamLength`: a longer path parameter is answered 414 by the router. */
const MAX_PARAM_LENGTH = 100;

/** No inline script or style, no plugin, no framing; sockets and fetches to this origin only. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The built web client's folder when it holds an index.html, else undefined (API only). */
export function webRoot(config: Config): string | undefined {
  const root = resolve(config.WEB_DIST_DIR);
  return existsSync(join(root, 'index.html')) ? root : undefined;
}

/**
 * Serves the web client (web/dist) at `/`: hashed files under /assets/ cached for a year, everything
 * else revalidated, and any other GET that asks for HTML answered with index.html so the client's
 * own routes (/signin, /c/C123) load it. Reading files is @fastify/static's `sendFile` (registered in
 * createApp), which also does ETags, ranges and content types.
 */
@Controller()
@ApiExcludeController()
export class WebController {
  private readonly root: string | undefined;

  constructor(@Inject(CONFIG) config: Config) {
    this.root = webRoot(config);
    if (!this.root) new Logger('Web').log(`no web client at ${resolve(config.WEB_DIST_DIR)} (run npm run build): serving the API only`);
  }

  @Get('*')
  async serve(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const path = safeDecode(req.url.split('?')[0]);
    if (path !== undefined && SERVER_PATHS.test(path) && path.split('/').some((segment) => segment.length > MAX_PARAM_LENGTH)) {
      // A server route refused this parameter for its length and the router fell through to this
      // catch-all: answer what the router answers without it.
      return reply.code(414).send({ error: 'Bad Request', code: 'FST_ERR_MAX_PARAM_LENGTH', statusCode: 414 });
    }
    if (!this.root || path === undefined || SERVER_PATHS.test(path)) throw new NotFoundException(`Cannot GET ${req.url.split('?')[0]}`);
    const file = await this.fileOf(this.root, path);
    if (file) return this.send(reply, this.root, file);
    if (!path.startsWith('/assets/') && /text\/html/.test(req.headers.accept ?? '')) return this.send(reply, this.root, 'index.html');
    throw new NotFoundException(`Cannot GET ${req.url.split('?')[0]}`);
  }

  /** The file under root that the path names (`/` is index.html), or undefined; never outside root. */
  private async fileOf(root: string, path: string): Promise<string | undefined> {
    const relative = posix.normalize(path).replace(/^\/+/, '') || 'index.html';
    const full = resolve(root, relative);
    if (!full.startsWith(root + sep)) return undefined;
    const info = await stat(full).catch(() => undefined);
    return info?.isFile() ? relative : undefined;
  }

  private send(reply: FastifyReply, root: string, file: string) {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('cache-control', file.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (file.endsWith('.html')) void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    return reply.sendFile(file, root, { cacheControl: false });
  }
}

function safeDecode(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}
