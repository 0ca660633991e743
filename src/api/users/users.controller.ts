import { IsNotEmpty, IsString } from 'class-validator';
import { SlackError } from '../../domain/slack-error.js';
import { toSlackUser } from '../../domain/user.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { PageArgs } from '../conversations/conversations.dto.js';
import { CurrentCaller, decodeCursor, encodeCursor, pageSize, slack, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';

class UserArgs {
  @IsString(slack('user_not_found'))
  @IsNotEmpty(slack('user_not_found'))
  user: string;
}

@SlackMethods()
export class UsersController {
  constructor(private readonly workspaces: WorkspacesService) {}

  @SlackMethod('auth.test')
  async authTest(@CurrentCaller() caller: Caller) {
    const workspace = await this.workspaces.findWorkspace(caller.workspace);
    return {
      url: `https://${caller.workspace.toLowerCase()}.atomcast.local/`,
      team: workspace?.name,
      user: caller.user.name,
      team_id: caller.workspace,
      user_id: caller.user.id,
      is_enterprise_install: false,
    };
  }

  @SlackMethod('users.info')
  async info(@CurrentCaller() caller: Caller, @SlackArgs() args: UserArgs) {
    const user = await this.workspaces.findUser(caller.workspace, args.user);
    if (!user) throw new SlackError('user_not_found');
    return { user: toSlackUser(user) };
  }

  @SlackMethod('users.list')
  async list(@CurrentCaller() caller: Caller, @SlackArgs() args: PageArgs) {
    const limit = pageSize(args.limit, 200, 1000);
    const rows = await this.workspaces.listUsers(caller.workspace, decodeCursor(args.cursor, 'user') ?? '', limit + 1);
    const page = rows.slice(0, limit);
    return {
      members: page.map(toSlackUser),
      response_metadata: { next_cursor: rows.length > limit ? encodeCursor('user', page[page.length - 1].id) : '' },
    };
  }
}
