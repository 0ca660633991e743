import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { ApiModule } from '../api/api.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { WorkspacesModule } from '../workspaces/workspaces.module.js';
import { AppEventsModule } from '../jobs/app-events/app-events.module.js';
import { AccessController } from './access.controller.js';
import { AppsController } from './apps.controller.js';
import { AdminController } from './admin.controller.js';
import { AdminGuard } from './admin.guard.js';
import { AuditController } from './audit.controller.js';
import { AuditInterceptor } from './audit.interceptor.js';
import { EkmController } from './ekm.controller.js';
import { EmojiController } from './emoji.controller.js';
import { RetentionController } from './retention.controller.js';

/** Operator and workspace-admin REST; channel lookups through the api's repository, runs through jobs. */
@Module({
  imports: [WorkspacesModule, ApiModule, JobsModule, AuditModule, AppEventsModule],
  controllers: [AppsController, AdminController, RetentionController, EkmController, EmojiController, AccessController, AuditController],
  providers: [AdminGuard, AuditInterceptor],
})
export class AdminModule {}
