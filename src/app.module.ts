import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AdminModule } from './admin/admin.module.js';
import { ApiModule } from './api/api.module.js';
import { CryptoModule } from './crypto/crypto.module.js';
import { CONFIG, type Config } from './config/config.js';
import { DatabaseModule } from './db/database.module.js';
import { EventStoreModule } from './event-store/event-store.module.js';
import { HealthController } from './health/health.controller.js';
import { JobsModule } from './jobs/jobs.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { ProjectionsModule } from './projections/projections.module.js';
import { ReplayModule } from './replay/replay.module.js';
import { WorkspacesModule } from './workspaces/workspaces.module.js';

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    const serves = config.ROLES.includes('api');
    return {
      module: AppModule,
      global: true,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.LOG_LEVEL,
            // Tokens travel in headers and sometimes the query string; bodies carry message text.
            // None of them is logged.
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            serializers: {
              req: (req: { method: string; url: string; id: unknown }) => ({ id: req.id, method: req.method, url: req.url.split('?')[0] }),
            },
          },
        }),
        DatabaseModule,
        CryptoModule,
        EventStoreModule,
        WorkspacesModule,
        JobsModule,
        ProjectionsModule,
        // The `api` role serves HTTP and sockets; a worker-only process (`npm run worker`) skips them.
        ...(serves ? [ApiModule, AdminModule, RealtimeModule, ReplayModule] : []),
      ],
      controllers: serves ? [HealthController] : [],
      providers: [{ provide: CONFIG, useValue: config }],
      exports: [CONFIG],
    };
  }
}
