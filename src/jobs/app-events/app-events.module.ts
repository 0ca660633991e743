import { Module } from '@nestjs/common';
import { EventStoreModule } from '../../event-store/event-store.module.js';
import { WorkspacesModule } from '../../workspaces/workspaces.module.js';
import { AppStreamsService } from './app-streams.service.js';
import { AppsRepository } from './apps.repository.js';
import { AppsService } from './apps.service.js';
import { SocketModeHub } from './socket-mode-hub.js';

/** Installed apps, their credentials and Events API delivery (HTTP and Socket Mode). */
@Module({
  imports: [EventStoreModule, WorkspacesModule],
  providers: [AppsRepository, AppsService, AppStreamsService, SocketModeHub],
  exports: [AppsService, AppStreamsService, SocketModeHub],
})
export class AppEventsModule {}
