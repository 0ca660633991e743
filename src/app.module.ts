import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { AdminModule } from './admin/admin.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ApiModule } from './api/api.module.js';
import { type Config } from './config/config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './db/database.module.js';
import { HealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { NotifyModule } from './jobs/notify/notify.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { ProjectionsModule } from './projections/projections.module.js';
import { ReplayModule } from './replay/replay.module.js';
import { WebModule } from './web/web.module.js';

let destination: pino.DestinationStream | undefined;

/**
 * stdout for every app of this process, written asynchronously (sonic-boom): a log line (the access
 * log's, one per request) is formatted on the event loop but never waits for the write. What is
 * still buffered is written out synchronously when the process exits.
 */
function logDestination(): pino.DestinationStream {
  if (destination) return destination;
  const stream = pino.destination({ dest: 1, sync: false });
  process.once('exit', () => {
    try {
      stream.flushSync();
    } catch {
      // nothing buffered, or stdout gone
    }
  });
  return (destination = stream);
}

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    const serves = config.ROLES.includes('api');
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          // No pino-http middleware on any route: it bound a child logger to every request (through
          // @fastify/middie and an AsyncLocalStorage), a tenth of a request's framework CPU, for log
          // lines that name their route themselves (the access log, the exception filter).
          forRoutes: [],
          pinoHttp: [
            {
              level: config.LOG_LEVEL,
              // The access log is createApp's own line (route template, token id), switchable by ACCESS_LOG.
              autoLogging: false,
              // Tokens travel in headers and sometimes the query string; bodies carry message text.
              // None of them is logged.
              redact: ['req.headers.authorization', 'req.headers.cookie'],
              serializers: {
                req: (req: { method: string; url: string; id: unknown }) => ({
                  id: req.id,
                  method: req.method,
                  url: req.url.split('?')[0],
                }),
              },
            },
            logDestination(),
          ],
        }),
        // The two global modules; every other module imports what it uses.
        ConfigModule.forRoot(config),
        DatabaseModule,
        // Every role runs the job dispatcher and workers and keeps the read models.
        JobsModule,
        NotifyModule,
        ProjectionsModule,
        // The `api` role serves HTTP and sockets; a worker-only process (`npm run worker`) skips them.
        ...(serves ? [ApiModule, AdminModule, RealtimeModule, ReplayModule, HealthModule, AuthModule, WebModule] : []),
      ],
    };
  }
}
