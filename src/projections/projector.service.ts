import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type pg from 'pg';
import { CONFIG, type Config, runsConsumers } from '../config/config.js';
import { PG_POOL } from '../db/database.module.js';
import { KeyServiceUnavailable } from '../crypto/key-provider.js';
import { SearchKeys } from '../crypto/search-keys.js';
import { EventStore } from '../event-store/event-store.js';
import { type ProjectionLag, Projector } from './projector.js';
import { allProjections } from './projections.js';

/**
 * Runs every projection in this process (a consumers role, PROJECTOR_ENABLED), together: one read
 * of each batch, one connection and one transaction for all of them (Projector). The advisory locks
 * keep one leader per projection.
 */
@Injectable()
export class ProjectorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('Projector');
  /** One projector for all the projections (a list: the processes that run consumers list them all). */
  readonly projectors: readonly Projector[];
  private readonly projector: Projector;

  constructor(
    @Inject(PG_POOL) pool: pg.Pool,
    @Inject(CONFIG) private readonly config: Config,
    store: EventStore,
    searchKeys: SearchKeys,
  ) {
    this.projector = new Projector(allProjections({ searchKeys }), store, {
      databaseUrl: config.DATABASE_URL,
      pool,
      batchSize: config.PROJECTOR_BATCH_SIZE,
      intervalMs: config.PROJECTOR_INTERVAL_MS,
      gapMs: config.CONSUMER_PASS_GAP_MS,
      // A key service that fails holds the pass back (BodyOpener); BodyCipher logs that once, not per pass.
      onError: (err) => {
        if (!(err instanceof KeyServiceUnavailable)) this.log.warn(`projections: ${err instanceof Error ? err.message : String(err)}`);
      },
    });
    this.projectors = [this.projector];
  }

  onApplicationBootstrap(): void {
    if (this.config.PROJECTOR_ENABLED && runsConsumers(this.config)) this.projector.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.projector.stop();
  }

  /** Waits until every projection has applied the events committed before the call. */
  async catchUp(timeoutMs?: number): Promise<void> {
    await this.projector.catchUp({ timeoutMs });
  }

  /** Lag per projection, for /readyz. */
  async lag(): Promise<Record<string, ProjectionLag & { leader_here: boolean }>> {
    const entries = await Promise.all(
      this.projector.projections.map(
        async (p) => [p.name, { ...(await this.projector.lag(p.name)), leader_here: this.projector.isLeader }] as const,
      ),
    );
    return Object.fromEntries(entries);
  }
}
