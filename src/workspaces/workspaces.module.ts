import { Module } from '@nestjs/common';
import { WorkspacesRepository } from './workspaces.repository.js';
import { WorkspacesService } from './workspaces.service.js';

/** Workspaces, users and tokens: who a token belongs to. */
@Module({ providers: [WorkspacesRepository, WorkspacesService], exports: [WorkspacesService] })
export class WorkspacesModule {}
