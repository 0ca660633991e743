import { Module } from '@nestjs/common';
import { CryptoModule } from '../crypto/crypto.module.js';
import { EventStoreModule } from '../event-store/event-store.module.js';
import { ProjectorService } from './projector.service.js';
import { SearchRekey } from './search-index/search-rekey.js';
import { UnreadCountsRepository } from './unread/unread-counts.repository.js';

/** Read models kept from the global log, and the projector that keeps them. The Slack methods that read them live in api/. */
@Module({
  imports: [EventStoreModule, CryptoModule],
  providers: [ProjectorService, UnreadCountsRepository, SearchRekey],
  exports: [ProjectorService, UnreadCountsRepository, SearchRekey],
})
export class ProjectionsModule {}
