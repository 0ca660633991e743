import { Module } from '@nestjs/common';
import { ChannelsRepository } from './channels.repository.js';
import { ChatController } from './chat/chat.controller.js';
import { ChatRepository } from './chat/chat.repository.js';
import { ChatService } from './chat/chat.service.js';
import { ConversationsController } from './conversations/conversations.controller.js';
import { ConversationsService } from './conversations/conversations.service.js';
import { MessagesRepository } from './messages.repository.js';
import { UnknownMethodController } from './unknown-method.controller.js';
import { UsersController } from './users/users.controller.js';

@Module({
  controllers: [ChatController, ConversationsController, UsersController, UnknownMethodController],
  providers: [ChatService, ChatRepository, ConversationsService, ChannelsRepository, MessagesRepository],
  exports: [ChannelsRepository, MessagesRepository, ConversationsService, ChatService],
})
export class ApiModule {}
