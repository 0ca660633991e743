import type { Caller } from '../../workspaces/workspaces.service.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import { GetReactionsArgs, ListReactionsArgs, ReactArgs } from './reactions.dto.js';
import { ReactionsService } from './reactions.service.js';

@SlackMethods()
export class ReactionsController {
  constructor(private readonly reactions: ReactionsService) {}

  @SlackMethod('reactions.add')
  async add(@CurrentCaller() caller: Caller, @SlackArgs() args: ReactArgs) {
    return this.reactions.react(caller, args, true);
  }

  @SlackMethod('reactions.remove')
  async remove(@CurrentCaller() caller: Caller, @SlackArgs() args: ReactArgs) {
    return this.reactions.react(caller, args, false);
  }

  @SlackMethod('reactions.get')
  async get(@CurrentCaller() caller: Caller, @SlackArgs() args: GetReactionsArgs) {
    return this.reactions.get(caller, args);
  }

  @SlackMethod('reactions.list')
  async list(@CurrentCaller() caller: Caller, @SlackArgs() args: ListReactionsArgs) {
    return this.reactions.list(caller, args);
  }

  @SlackMethod('emoji.list')
  async emojiList(@CurrentCaller() caller: Caller) {
    return this.reactions.emojiList(caller);
  }
}
