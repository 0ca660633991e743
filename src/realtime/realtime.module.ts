import { Module } from '@nestjs/common';
import { ApiModule } from '../api/api.module.js';
import { EventStoreModule } from '../event-store/event-store.module.js';
import { ProjectionsModule } from '../projections/projections.module.js';
import { WorkspacesModule } from '../workspaces/workspaces.module.js';
import { ChannelWatch } from './channel-watch.js';
import { Delivery } from './delivery.js';
import { EphemeralBus } from './ephemeral-bus.js';
import { EphemeralDeliveries } from './ephemeral-deliveries.js';
import { Presence } from './presence.js';
import { RealtimeGateway } from './realtime.gateway.js';
import { RealtimeRepository } from './realtime.repository.js';
import { Relay } from './relay.js';
import { Typing } from './typing.js';
import { UserChanges } from './user-changes.js';
import { Viewers } from './viewers.js';
import { NotifyModule } from '../jobs/notify/notify.module.js';

/**
 * The relay (LISTEN + range reads by seq), the ephemeral bus and the Socket.IO gateway. A delivery
 * surface on top of the api: socket commands call the api's use cases (chat, conversations).
 */
@Module({
  imports: [EventStoreModule, WorkspacesModule, ProjectionsModule, ApiModule, NotifyModule],
  providers: [
    RealtimeRepository,
    Relay,
    EphemeralBus,
    ChannelWatch,
    Delivery,
    Presence,
    Typing,
    UserChanges,
    EphemeralDeliveries,
    Viewers,
    RealtimeGateway,
  ],
})
export class RealtimeModule {}
