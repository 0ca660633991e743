import type { Caller } from '../../workspaces/workspaces.service.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import { SearchArgs } from './search.dto.js';
import { SearchService } from './search.service.js';

@SlackMethods()
export class SearchController {
  constructor(private readonly search: SearchService) {}

  @SlackMethod('search.messages')
  async messages(@CurrentCaller() caller: Caller, @SlackArgs() args: SearchArgs) {
    return this.search.messages(caller, args);
  }

  @SlackMethod('search.all')
  async all(@CurrentCaller() caller: Caller, @SlackArgs() args: SearchArgs) {
    return this.search.all(caller, args);
  }
}
