import { Module } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';
import { EventStore } from '../event-store/event-store.js';
import { EventStoreModule } from '../event-store/event-store.module.js';
import { WorkspacesModule } from '../workspaces/workspaces.module.js';
import { ReplayController } from './replay.controller.js';
import { AdminGuard } from '../admin/admin.guard.js';
import { ReplayRepository } from './replay.repository.js';
import { ReplayService } from './replay.service.js';

/** The analysts' replay API. It takes the admin guard from admin/ (which never imports replay); the guard needs workspaces. */
@Module({
  imports: [EventStoreModule, WorkspacesModule],
  controllers: [ReplayController],
  providers: [
    AdminGuard,
    { provide: ReplayRepository, inject: [PG_POOL], useFactory: (pool: pg.Pool) => new ReplayRepository(pool) },
    {
      provide: ReplayService,
      inject: [EventStore, ReplayRepository],
      useFactory: (store: EventStore, repo: ReplayRepository) => new ReplayService(store, repo),
    },
  ],
})
export class ReplayModule {}
