import { Module } from '@nestjs/common';
import { CryptoModule } from '../crypto/crypto.module.js';
import { EkmService } from '../crypto/ekm.service.js';
import { EventStoreModule } from '../event-store/event-store.module.js';
import { JobDispatcher } from './job-dispatcher.service.js';
import { JobQueues } from './job-queues.js';
import { JobWorkers } from './job-workers.service.js';
import { RetentionRepository } from './retention/retention.repository.js';
import { RetentionService } from './retention/retention.service.js';
import { UnfurlModule } from './unfurl/unfurl.module.js';

/** Background work: the stream -> queue dispatcher, the workers, and the services they call. */
@Module({
  imports: [EventStoreModule, CryptoModule, UnfurlModule],
  providers: [JobQueues, JobDispatcher, JobWorkers, RetentionRepository, RetentionService, EkmService],
  exports: [JobQueues, RetentionService, EkmService],
})
export class JobsModule {}
