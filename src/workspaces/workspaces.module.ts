import { Global, Module } from '@nestjs/common';
import { WorkspacesRepository } from './workspaces.repository.js';
import { WorkspacesService } from './workspaces.service.js';

@Global()
@Module({ providers: [WorkspacesRepository, WorkspacesService], exports: [WorkspacesService] })
export class WorkspacesModule {}
