import 'reflect-metadata';
import { type INestApplicationContext, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import fastifyStatic from '@fastify/static';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { AllExceptionsFilter } from './api/slack-exception.filter.js';
import type { Config } from './config/config.js';
import { RealtimeIoAdapter } from './realtime/io-adapter.js';
import { webRoot } from './web/web.controller.js';

/** Builds the HTTP application (Slack Web API, admin API, health) without listening. */
export async function createApp(config: Config): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: config.BODY_LIMIT_BYTES, trustProxy: true });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  app.useWebSocketAdapter(new RealtimeIoAdapter(app, config));

  // The adapter parses JSON and application/x-www-form-urlencoded (what @slack/web-api sends), and
  // hands body failures (malformed JSON, oversized bodies) to the filters like every other error.
  app.useGlobalFilters(new AllExceptionsFilter());
  // Admin DTOs; the Slack API has its own pipe that answers with Slack error codes.
  app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }));

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
