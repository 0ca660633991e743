import { Module } from '@nestjs/common';
import { ProfilesRepository } from './profiles.repository.js';
import { ProfilesService } from './profiles.service.js';
import { WorkspacesRepository } from './workspaces.repository.js';
import { WorkspacesService } from './workspaces.service.js';

/** Workspaces, users and tokens: who a token belongs to. */
@Module({
  providers: [WorkspacesRepository, WorkspacesService, ProfilesRepository, ProfilesService],
  exports: [WorkspacesService, ProfilesService],
})
export class WorkspacesModule {}
