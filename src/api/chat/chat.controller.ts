import type { Caller } from '../../workspaces/workspaces.service.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import { DeleteMessageArgs, PostMessageArgs, UpdateMessageArgs } from './chat.dto.js';
import { ChatService } from './chat.service.js';

@SlackMethods()
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @SlackMethod('chat.postMessage')
  async postMessage(@CurrentCaller() caller: Caller, @SlackArgs() args: PostMessageArgs) {
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
}
