import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { CryptoModule } from '../crypto/crypto.module.js';
import { DatabaseModule, PG_POOL } from '../db/database.module.js';
import { EventStore } from '../event-store/event-store.js';
import { EventStoreModule } from '../event-store/event-store.module.js';
import { ReplayRepository } from '../replay/replay.repository.js';
import { ReplayService } from '../replay/replay.service.js';

/**
 * What the command-line tools (`npm run replay`, `npm run rebuild`) need of the application, built
 * by the same container as the API so that they open EKM bodies exactly as it does: the database,
 * the body cipher and the event store. No HTTP, sockets, projectors, dispatcher or workers.
 */
@Module({})
export class CliModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: CliModule,
      global: true,
      imports: [DatabaseModule, CryptoModule, EventStoreModule],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: ReplayRepository, inject: [PG_POOL], useFactory: (pool: pg.Pool) => new ReplayRepository(pool) },
        {
          provide: ReplayService,
          inject: [EventStore, ReplayRepository],
          useFactory: (store: EventStore, repo: ReplayRepository) => new ReplayService(store, repo),
        },
      ],
      exports: [CONFIG],
    };
  }
}

/** The tools' application context; close it when done (it ends the pool). Only errors are logged, on stderr. */
export function createCliContext(config: Config): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(CliModule.forRoot(config), { logger: ['error'], abortOnError: false });
}
