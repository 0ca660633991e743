import { Global, Module } from '@nestjs/common';
import { ProjectorService } from './projector.service.js';
import { ClientCountsController } from './unread/client-counts.controller.js';
import { UnreadCountsRepository } from './unread/unread-counts.repository.js';

/** Read models kept from the global log, the projector that keeps them, and the methods that read them. */
@Global()
@Module({
  controllers: [ClientCountsController],
  providers: [ProjectorService, UnreadCountsRepository],
  exports: [ProjectorService, UnreadCountsRepository],
})
export class ProjectionsModule {}
