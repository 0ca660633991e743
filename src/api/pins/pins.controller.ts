import type { Caller } from '../../workspaces/workspaces.service.js';
import { ChannelArgs } from '../conversations/conversations.dto.js';
import { ItemArgs } from '../reactions/reactions.dto.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import { PinsService } from './pins.service.js';

@SlackMethods()
export class PinsController {
  constructor(private readonly pins: PinsService) {}

  @SlackMethod('pins.add')
  async add(@CurrentCaller() caller: Caller, @SlackArgs() args: ItemArgs) {
    return this.pins.change(caller, args, true);
  }

  @SlackMethod('pins.remove')
  async remove(@CurrentCaller() caller: Caller, @SlackArgs() args: ItemArgs) {
    return this.pins.change(caller, args, false);
  }

  @SlackMethod('pins.list')
  async list(@CurrentCaller() caller: Caller, @SlackArgs() args: ChannelArgs) {
    return this.pins.list(caller, args.channel);
  }
}
