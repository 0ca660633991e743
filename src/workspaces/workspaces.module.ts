import { Module } from '@nestjs/common';
import { CustomEmojiRepository } from './custom-emoji.repository.js';
import { ProfilesRepository } from './profiles.repository.js';
import { ProfilesService } from './profiles.service.js';
import { AuthFailures } from './auth-failures.js';
import { WorkspacesRepository } from './workspaces.repository.js';
import { WorkspacesService } from './workspaces.service.js';

/** Workspaces, users and tokens: who a token belongs to. */
@Module({
  providers: [WorkspacesRepository, WorkspacesService, CustomEmojiRepository, ProfilesRepository, ProfilesService, AuthFailures],
  exports: [WorkspacesService, CustomEmojiRepository, ProfilesService, AuthFailures],
})
export class WorkspacesModule {}
