import { Module } from '@nestjs/common';
import { CryptoModule } from '../crypto/crypto.module.js';
import { EventStoreModule } from '../event-store/event-store.module.js';
import { ProjectionsModule } from '../projections/projections.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { AppEventsModule } from '../jobs/app-events/app-events.module.js';
import { AppEndpointsController } from './apps/app-endpoints.controller.js';
import { AppsController } from './apps/apps.controller.js';
import { InteractivityService } from './apps/interactivity.service.js';
import { SocketModeServer } from './apps/socket-mode.server.js';
import { WorkspacesModule } from '../workspaces/workspaces.module.js';
import { ChannelsRepository } from './channels.repository.js';
import { ChatExtrasController } from './chat/chat-extras.controller.js';
import { ChatController } from './chat/chat.controller.js';
import { ChatRepository } from './chat/chat.repository.js';
import { ChatService } from './chat/chat.service.js';
import { EphemeralMessages } from './chat/ephemeral-messages.service.js';
import { ScheduledMessagesController } from './chat/scheduled-messages.controller.js';
import { ScheduledMessagesRepository } from './chat/scheduled-messages.repository.js';
import { ScheduledMessagesService } from './chat/scheduled-messages.service.js';
import { ClientBootController } from './client/client-boot.controller.js';
import { ClientCountsController } from './client/client-counts.controller.js';
import { ConversationsController } from './conversations/conversations.controller.js';
import { ConversationsService } from './conversations/conversations.service.js';
import { MessagesRepository } from './messages.repository.js';
import { UnknownMethodController } from './unknown-method.controller.js';
import { UsersController } from './users/users.controller.js';
import { ChannelSettingsService } from './conversations/channel-settings.service.js';
import { DirectMessagesService } from './conversations/direct-messages.service.js';
import { MessageExtras } from './message-extras.js';
import { PinsController } from './pins/pins.controller.js';
import { PinsRepository } from './pins/pins.repository.js';
import { PinsService } from './pins/pins.service.js';
import { ReactionsController } from './reactions/reactions.controller.js';
import { ReactionsRepository } from './reactions/reactions.repository.js';
import { ReactionsService } from './reactions/reactions.service.js';
import { SearchController } from './search/search.controller.js';
import { SearchRepository } from './search/search.repository.js';
import { SearchService } from './search/search.service.js';
import { UsersProfileController } from './users/users-profile.controller.js';
import { UsersNotifyController } from './users/users-notify.controller.js';
import { NotifyModule } from '../jobs/notify/notify.module.js';
import { FilesModule } from './files/files.module.js';
import { FilesService } from './files/files.service.js';
import { FILE_SEARCH } from './search/file-search.js';

/**
 * The Slack Web API. Reads the unread read model (projections) for client.counts and
 * conversations.info; knows nothing of sockets: real-time delivery calls its use cases, never the reverse.
 */
@Module({
  imports: [EventStoreModule, CryptoModule, WorkspacesModule, ProjectionsModule, JobsModule, NotifyModule, FilesModule, AppEventsModule],
  controllers: [
    AppsController,
    AppEndpointsController,
    ChatController,
    ChatExtrasController,
    ConversationsController,
    UsersController,
    ClientCountsController,
    ReactionsController,
    PinsController,
    UsersProfileController,
    ScheduledMessagesController,
    ClientBootController,
    UsersNotifyController,
    SearchController,
    UnknownMethodController,
  ],
  providers: [
    InteractivityService,
    SocketModeServer,
    ChatService,
    ChatRepository,
    EphemeralMessages,
    ConversationsService,
    ChannelsRepository,
    MessagesRepository,
    ChannelSettingsService,
    DirectMessagesService,
    MessageExtras,
    ReactionsRepository,
    ReactionsService,
    PinsRepository,
    PinsService,
    ScheduledMessagesRepository,
    ScheduledMessagesService,
    SearchRepository,
    SearchService,
    // search.all's files section: file names the caller may see (the files feature's search).
    { provide: FILE_SEARCH, useExisting: FilesService },
  ],
  exports: [ChannelsRepository, ConversationsService, ChatService, EphemeralMessages],
})
export class ApiModule {}
