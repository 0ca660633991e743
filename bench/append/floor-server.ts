// (e) The honest floor for "HTTP + this database": a bare Fastify route doing what chat.postMessage
// must do and nothing of the Nest pipeline. The services are the app's own, from its module graph
// (AppModule as an application context, the same config): the same token check
// (WorkspacesService.authenticate, its cache included), the same use case (ChatService.postMessage:
// the EKM sealer lookup and one post_message() round trip) through the same pool. No guards,
// pipes, interceptors, filters, rate limit, access log or class-validator. Reports its port over
// IPC, stops on a "stop" message and counts its SQL statements (BENCH_COUNT_QUERIES=1) as app-server.ts does.
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import { NestFactory } from '@nestjs/core';
import { ChatService } from '../../src/api/chat/chat.service.js';
import { AppModule } from '../../src/app.module.js';
import { loadConfig } from '../../src/config/config.js';
import { SlackError } from '../../src/domain/slack-error.js';
import { WorkspacesService } from '../../src/workspaces/workspaces.service.js';
import { printQueryCounts } from './query-count.js';

const config = loadConfig();
const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: false });
const workspaces = ctx.get(WorkspacesService);
const chat = ctx.get(ChatService);

const server = Fastify({ bodyLimit: config.BODY_LIMIT_BYTES });
server.post('/api/chat.postMessage', async (req, reply) => {
  const bearer = /^bearer\s+(.*)$/i.exec(req.headers.authorization ?? '');
  const caller = bearer ? await workspaces.authenticate(bearer[1].trim()) : undefined;
  if (!caller) return { ok: false, error: 'invalid_auth' };
  const body = req.body as { channel?: unknown; text?: unknown };
  if (typeof body?.channel !== 'string' || typeof body.text !== 'string') return { ok: false, error: 'invalid_arguments' };
  try {
    return { ok: true, ...(await chat.postMessage(caller, { channel: body.channel, text: body.text })) };
  } catch (err) {
    if (err instanceof SlackError) return reply.send({ ok: false, error: err.code });
    throw err;
  }
});
// The reference for the floor's own HTTP hop: the same request parsed and answered, with no token
// check and no query (bench/append: the low-load "no database" run).
server.post('/api/bench.ping', async () => ({ ok: true }));
await server.listen({ port: 0, host: '127.0.0.1' });
const address = server.server.address() as { port: number };
process.send?.({ port: address.port, readyMs: performance.now() });

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  printQueryCounts('floor');
  void Promise.allSettled([server.close(), ctx.close()]).finally(() => process.exit(0));
};
process.on('message', (msg: { stop?: boolean }) => {
  if (msg.stop) stop();
});
process.on('disconnect', stop);
