import { Module } from '@nestjs/common';
import { ApiModule } from '../api/api.module.js';
import { AdminController } from './admin.controller.js';
import { AdminGuard } from './admin.guard.js';
import { EkmController } from './ekm.controller.js';
import { RetentionController } from './retention.controller.js';

@Module({ imports: [ApiModule], controllers: [AdminController, RetentionController, EkmController], providers: [AdminGuard] })
export class AdminModule {}
