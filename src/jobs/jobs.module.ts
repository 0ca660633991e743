import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { CryptoModule } from '../crypto/crypto.module.js';
import { EventStoreModule } from '../event-store/event-store.module.js';
import { ProjectionsModule } from '../projections/projections.module.js';
import { EkmRunsRepository } from './ekm/ekm-runs.repository.js';
import { EkmRunner } from './ekm/ekm.runner.js';
import { EkmService } from './ekm/ekm.service.js';
import { JobDispatcher } from './job-dispatcher.service.js';
import { JobQueues } from './job-queues.js';
import { JobWorkers } from './job-workers.service.js';
import { RetentionRepository } from './retention/retention.repository.js';
import { RetentionService } from './retention/retention.service.js';
import { JobRunsRepository } from './runs/job-runs.repository.js';
import { JobRunsService } from './runs/job-runs.service.js';
import { TimedOutboxRepository } from './timed/timed-outbox.repository.js';
import { UnfurlModule } from './unfurl/unfurl.module.js';
import { WorkspacesModule } from '../workspaces/workspaces.module.js';
import { StorageModule } from '../storage/storage.module.js';
import { FileBytes } from './files/file-bytes.js';
import { FileThumbnails } from './files/file-thumbnails.js';
import { FilesEkm } from './files/files-ekm.js';
import { FilesRepository } from './files/files.repository.js';
import { FilesRunner } from './files/files-runner.js';
import { FilesSweep } from './files/files-sweep.js';

/** Background work: the stream -> queue dispatcher, the workers, and the services they call. */
@Module({
  imports: [EventStoreModule, CryptoModule, UnfurlModule, WorkspacesModule, AuditModule, StorageModule, ProjectionsModule],
  providers: [
    JobQueues,
    JobDispatcher,
    JobWorkers,
    JobRunsRepository,
    JobRunsService,
    RetentionRepository,
    RetentionService,
    EkmService,
    EkmRunner,
    EkmRunsRepository,
    TimedOutboxRepository,
    FilesRepository,
    FileBytes,
    FileThumbnails,
    FilesSweep,
    FilesEkm,
    FilesRunner,
  ],
  exports: [
    JobQueues,
    RetentionService,
    EkmService,
    JobRunsService,
    JobWorkers,
    FilesRepository,
    FileBytes,
    FileThumbnails,
    FilesSweep,
    FilesEkm,
    JobRunsRepository,
  ],
})
export class JobsModule {}
