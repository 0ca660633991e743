import 'reflect-metadata';
import {
  type ArgumentMetadata,
  type INestApplicationContext,
  type PipeTransform,
  ValidationPipe,
  type ValidationPipeOptions,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import fastifyStatic from '@fastify/static';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { AllExceptionsFilter } from './api/slack-exception.filter.js';
import type { Config } from './config/config.js';
import { DatabaseOutage } from './db/database.js';
import { payloadProblem } from './domain/payload.js';
import { RealtimeIoAdapter } from './realtime/io-adapter.js';
import { webRoot } from './web/web.controller.js';

/**
 * Nest's ValidationPipe for the admin DTOs. It leaves a custom param decorator's value as it is
 * (validateCustomDecorators is off, and such params carry no `data` to convert): that of every
 * Slack method's arguments and caller (SlackArgs, CurrentCaller), handed back here without its
 * async call and promise.
 */
class AdminValidationPipe implements PipeTransform {
  private readonly pipe: ValidationPipe;

  constructor(options: ValidationPipeOptions) {
    this.pipe = new ValidationPipe(options);
  }

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    return metadata.type === 'custom' && !metadata.data ? value : this.pipe.transform(value, metadata);
  }
}

/** Builds the HTTP application (Slack Web API, admin API, health) without listening. */
export async function createApp(config: Config): Promise<NestFastifyApplication> {
  // skipMiddie: the app has no Nest middleware (AppModule gives the logger none; guards, filters and
  // the hooks below do that work), so @fastify/middie is not registered to run a hook per request for
  // nothing. A NestMiddleware added later fails at startup (instance.use is missing) until middie is.
  const adapter = new FastifyAdapter({ bodyLimit: config.BODY_LIMIT_BYTES, trustProxy: true, skipMiddie: true });
  // bodyParser false: JSON bodies go to Fastify's own parser, not to Nest's wrapper around the same
  // parser (it collects a Buffer and builds a new parser closure on every request); form bodies keep
  // Nest's parser, registered below, as nothing of Fastify's reads them.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, { bufferLogs: true, bodyParser: false });
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit: config.BODY_LIMIT_BYTES });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  app.useWebSocketAdapter(new RealtimeIoAdapter(app, config));

  // The adapter parses JSON and application/x-www-form-urlencoded (what @slack/web-api sends), and
  // hands body failures (malformed JSON, oversized bodies) to the filters like every other error.
  app.useGlobalFilters(new AllExceptionsFilter(app.get(DatabaseOutage)));
  // The access log: the route template, never the URL (its query string may carry a token) nor the
  // body; the token's id, never the token. Written to pino itself, as Nest's Logger would write it
  // (context "Access"), without the three logger layers in between: they built the line per
  // request even when its level is off. Above info (LOG_LEVEL, fixed at start) there is no hook at
  // all: Fastify then runs no onResponse hook per request for a line that would not be written.
  const access = PinoLogger.root;
  if (config.ACCESS_LOG && ['info', 'debug', 'trace'].includes(config.LOG_LEVEL))
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onResponse', (req, reply, done) => {
        const token = (req as { caller?: { tokenId?: string } }).caller?.tokenId;
        access.info({
          context: 'Access',
          method: req.method,
          route: req.routeOptions.url ?? 'unmatched',
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
          ...(token ? { token_id: token } : {}),
        });
        done();
      });
  // Before any pipe walks a body (class-transformer recurses): too deep a nesting or a lone UTF-16
  // surrogate is bad input on every surface (/api: invalid_arguments, elsewhere 400), never a 500.
  app
    .getHttpAdapter()
    .getInstance()
    // Callback-style hooks (this one and the access log): Fastify then makes no promise per request.
    .addHook('preValidation', (req, reply, done) => {
      const problem = payloadProblem(req.body) ?? payloadProblem(req.query);
      if (!problem) return done();
      if (req.url.startsWith('/api/')) reply.code(200).send({ ok: false, error: 'invalid_arguments' });
      else
        reply
          .code(400)
          .send({ statusCode: 400, message: problem === 'too_deep' ? 'body nested too deeply' : 'lone UTF-16 surrogate in a string' });
    });
  // Admin DTOs; the Slack API has its own pipe that answers with Slack error codes.
  app.useGlobalPipes(new AdminValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }));

  const openapi = new DocumentBuilder()
    .setTitle('atomcast admin API')
    .setDescription('Workspaces, users and tokens. Bearer: the operator ADMIN_TOKEN or a workspace admin token.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('admin/docs', app, () => SwaggerModule.createDocument(app, openapi));

  // reply.sendFile for the web client's files (src/web/web.controller.ts serves them).
  const web = webRoot(config);
  if (web) await app.register(fastifyStatic, { root: web, serve: false });
  return app;
}

/** A process with the `worker` role only: BullMQ workers, the job dispatcher and projectors, no HTTP. */
export async function createWorker(config: Config): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  return app;
}
