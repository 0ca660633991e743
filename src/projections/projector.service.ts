import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type pg from 'pg';
import { CONFIG, type Config, runsConsumers } from '../config/config.js';
import { PG_POOL } from '../db/database.module.js';
import { SearchKeys } from '../crypto/search-keys.js';
import { EventStore } from '../event-store/event-store.js';
import { type ProjectionLag, Projector } from './projector.js';
import { allProjections } from './projections.js';

/** Runs every projection in this process (a consumers role, PROJECTOR_ENABLED); the advisory lock keeps one leader per projection. */
@Injectable()
export class ProjectorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('Projector');
  readonly projectors: Projector[];

  constructor(
    @Inject(PG_POOL) pool: pg.Pool,
    @Inject(CONFIG) private readonly config: Config,
    store: EventStore,
    searchKeys: SearchKeys,
  ) {
    this.projectors = allProjections({ searchKeys }).map(
      (projection) =>
        new Projector(projection, store, {
          databaseUrl: config.DATABASE_URL,
          pool,
          batchSize: config.PROJECTOR_BATCH_SIZE,
          intervalMs: config.PROJECTOR_INTERVAL_MS,
          gapMs: config.CONSUMER_PASS_GAP_MS,
          onError: (err) => this.log.warn(`projection ${projection.name}: ${err instanceof Error ? err.message : String(err)}`),
        }),
    );
  }

  onApplicationBootstrap(): void {
    if (this.config.PROJECTOR_ENABLED && runsConsumers(this.config)) for (const projector of this.projectors) projector.start();
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.projectors.map((p) => p.stop()));
  }

  /** Waits until every projection has applied the events committed before the call. */
  async catchUp(timeoutMs?: number): Promise<void> {
    for (const projector of this.projectors) await projector.catchUp({ timeoutMs });
  }

  /** Lag per projection, for /readyz. */
  async lag(): Promise<Record<string, ProjectionLag & { leader_here: boolean }>> {
    const entries = await Promise.all(
      this.projectors.map(async (p) => [p.projection.name, { ...(await p.lag()), leader_here: p.isLeader }] as const),
    );
    return Object.fromEntries(entries);
  }
}
