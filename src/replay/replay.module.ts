import { Module } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';
import { EventStore } from '../event-store/event-store.js';
import { EventStoreModule } from '../event-store/event-store.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { WorkspacesModule } from '../workspaces/workspaces.module.js';
import { ReplayController } from './replay.controller.js';
import { AdminGuard } from '../admin/admin.guard.js';
import { AuditInterceptor } from '../admin/audit.interceptor.js';
import { ReplayRepository } from './replay.repository.js';
import { ReplayService } from './replay.service.js';

/** The analysts' replay API. It takes the admin guard and audit interceptor from admin/ (which never imports replay); they need workspaces and the audit trail. */
@Module({
  imports: [EventStoreModule, WorkspacesModule, AuditModule],
  controllers: [ReplayController],
  providers: [
    AdminGuard,
    AuditInterceptor,
    { provide: ReplayRepository, inject: [PG_POOL], useFactory: (pool: pg.Pool) => new ReplayRepository(pool) },
    {
      provide: ReplayService,
      inject: [EventStore, ReplayRepository],
      useFactory: (store: EventStore, repo: ReplayRepository) => new ReplayService(store, repo),
    },
  ],
})
export class ReplayModule {}
