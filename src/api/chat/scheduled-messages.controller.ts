import type { Caller } from '../../workspaces/workspaces.service.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import { DeleteScheduledArgs, ListScheduledArgs, ScheduleMessageArgs } from './scheduled-messages.dto.js';
import { ScheduledMessagesService } from './scheduled-messages.service.js';

@SlackMethods()
export class ScheduledMessagesController {
  constructor(private readonly scheduled: ScheduledMessagesService) {}

  @SlackMethod('chat.scheduleMessage')
  schedule(@CurrentCaller() caller: Caller, @SlackArgs() args: ScheduleMessageArgs) {
    return this.scheduled.schedule(caller, args);
  }

  @SlackMethod('chat.scheduledMessages.list')
  list(@CurrentCaller() caller: Caller, @SlackArgs() args: ListScheduledArgs) {
    return this.scheduled.list(caller, args);
  }

  @SlackMethod('chat.deleteScheduledMessage')
  delete(@CurrentCaller() caller: Caller, @SlackArgs() args: DeleteScheduledArgs) {
    return this.scheduled.delete(caller, args);
  }
}
