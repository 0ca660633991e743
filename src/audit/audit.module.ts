import { Module } from '@nestjs/common';
import { AuditRepository } from './audit.repository.js';

/** The audit trail of admin actions: written by the admin surface and the jobs, read over the admin API. */
@Module({ providers: [AuditRepository], exports: [AuditRepository] })
export class AuditModule {}
