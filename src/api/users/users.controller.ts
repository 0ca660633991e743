import { IsNotEmpty, IsOptional, IsString, Matches } from 'class-validator';
import { SlackError } from '../../domain/slack-error.js';
import { toSlackUser } from '../../domain/user.js';
import { ProfilesService } from '../../workspaces/profiles.service.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { PageArgs } from '../conversations/conversations.dto.js';
import { CurrentCaller, decodeCursor, encodeCursor, pageSize, slack, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';

class UserArgs {
  @IsOptional()
  @IsString(slack('user_not_found'))
  @IsNotEmpty(slack('user_not_found'))
  user?: string;

  /** atomcast's batch form (lazy boot fetches the users it shows): `users=U1,U2,...`, at most 100. */
  @IsOptional()
  @IsString(slack('invalid_arguments'))
  @Matches(/^[A-Z0-9]{1,32}(,[A-Z0-9]{1,32}){0,99}$/, slack('invalid_arguments'))
  users?: string;
}

@SlackMethods()
export class UsersController {
  constructor(
    private readonly workspaces: WorkspacesService,
    private readonly profiles: ProfilesService,
  ) {}

  @SlackMethod('auth.test')
  async authTest(@CurrentCaller() caller: Caller) {
    const workspace = await this.workspaces.findWorkspace(caller.workspace);
    return {
      url: `https://${caller.workspace.toLowerCase()}.atomcast.local/`,
      team: workspace?.name,
      user: caller.user.name,
      team_id: caller.workspace,
      user_id: caller.user.id,
      // A bot token answers as Slack's do: Bolt reads bot_id (and user_id) from here to ignore its own events.
      ...(caller.user.bot_id ? { bot_id: caller.user.bot_id } : {}),
      is_enterprise_install: false,
    };
  }

  @SlackMethod('users.info')
  async info(@CurrentCaller() caller: Caller, @SlackArgs() args: UserArgs) {
    if (args.users !== undefined) {
      if (args.user !== undefined) throw new SlackError('invalid_arguments');
      const ids = [...new Set(args.users.split(','))];
      const found = new Map((await this.profiles.findMany(caller.workspace, ids)).map((u) => [u.id, u]));
      // In the order asked; ids that are not users of the workspace are listed apart.
      return {
        users: ids.filter((id) => found.has(id)).map((id) => toSlackUser(found.get(id)!)),
        not_found: ids.filter((id) => !found.has(id)),
      };
    }
    if (args.user === undefined) throw new SlackError('user_not_found');
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
