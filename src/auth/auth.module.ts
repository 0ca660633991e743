import { Module } from '@nestjs/common';
import { WorkspacesModule } from '../workspaces/workspaces.module.js';
import { AuthController } from './auth.controller.js';

/** Sign-in for people: sign-in links exchanged for web sessions (HttpOnly cookie + CSRF header). */
@Module({ imports: [WorkspacesModule], controllers: [AuthController] })
export class AuthModule {}
