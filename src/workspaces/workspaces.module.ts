import { Module } from '@nestjs/common';
import { AuthFailures } from './auth-failures.js';
import { WorkspacesRepository } from './workspaces.repository.js';
import { WorkspacesService } from './workspaces.service.js';

/** Workspaces, users and tokens: who a token belongs to. */
@Module({ providers: [WorkspacesRepository, WorkspacesService, AuthFailures], exports: [WorkspacesService, AuthFailures] })
export class WorkspacesModule {}
