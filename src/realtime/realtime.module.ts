import { Module } from '@nestjs/common';
import { ApiModule } from '../api/api.module.js';
import { Delivery } from './delivery.js';
import { Presence } from './presence.js';
import { RealtimeGateway } from './realtime.gateway.js';
import { RealtimeRepository } from './realtime.repository.js';
import { Relay } from './relay.js';
import { Typing } from './typing.js';

/** The relay (LISTEN + range reads by seq) and the Socket.IO gateway. */
@Module({
  imports: [ApiModule],
  providers: [RealtimeRepository, Relay, Delivery, Presence, Typing, RealtimeGateway],
  exports: [Relay],
})
export class RealtimeModule {}
