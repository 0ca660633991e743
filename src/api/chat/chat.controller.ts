import { SlackError } from '../../domain/slack-error.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { DirectMessagesService } from '../conversations/direct-messages.service.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import { DeleteMessageArgs, PostMessageArgs, UpdateMessageArgs } from './chat.dto.js';
import { ChatService } from './chat.service.js';

/** A user id (U…), as opposed to a conversation id (C…, D…, G…). */
const USER_ID = /^U[A-Z0-9]{1,30}$/;

@SlackMethods()
export class ChatController {
  constructor(
    private readonly chat: ChatService,
    private readonly directMessages: DirectMessagesService,
  ) {}

  @SlackMethod('chat.postMessage')
  async postMessage(@CurrentCaller() caller: Caller, @SlackArgs() args: PostMessageArgs) {
    if (USER_ID.test(args.channel)) args.channel = await this.directMessageWith(caller, args.channel);
    return this.chat.postMessage(caller, args);
  }

  @SlackMethod('chat.update')
  async update(@CurrentCaller() caller: Caller, @SlackArgs() args: UpdateMessageArgs) {
    return this.chat.update(caller, args);
  }

  @SlackMethod('chat.delete')
  async delete(@CurrentCaller() caller: Caller, @SlackArgs() args: DeleteMessageArgs) {
    return this.chat.delete(caller, args);
  }

  /**
   * Slack posts `channel=U…` into the DM between the caller and that user, opening it if needed (as
   * conversations.open does, with its rules); the answer names the DM. A user the caller's workspace
   * does not have is channel_not_found, as Slack answers.
   */
  private async directMessageWith(caller: Caller, user: string): Promise<string> {
    try {
      const { channel } = await this.directMessages.open(caller, { users: user });
      return channel.id as string;
    } catch (err) {
      if (err instanceof SlackError && err.code === 'user_not_found') throw new SlackError('channel_not_found');
      throw err;
    }
  }
}
