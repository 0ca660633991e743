import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module.js';
import { HealthController } from './health.controller.js';

/** /healthz and /readyz (readiness reports projection lag). */
@Module({ imports: [ProjectionsModule], controllers: [HealthController] })
export class HealthModule {}
