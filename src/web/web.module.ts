import { Module } from '@nestjs/common';
import { WebController } from './web.controller.js';

/** The static web client (web/dist) at `/`. */
@Module({ controllers: [WebController] })
export class WebModule {}
