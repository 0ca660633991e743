import { All, Controller, HttpCode, UseGuards, UsePipes } from '@nestjs/common';
import { IsNotEmpty, IsString } from 'class-validator';
import { SlackError } from '../../domain/slack-error.js';
import { toSlackUser } from '../../domain/user.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { PageArgs } from '../conversations/conversations.dto.js';
import { CurrentCaller, decodeCursor, encodeCursor, pageSize, slack, SlackArgs, slackValidation } from '../slack-args.js';
import { SlackAuthGuard } from '../slack-auth.guard.js';
import { SlackRateLimitGuard } from '../slack-rate-limit.guard.js';

class UserArgs {
  @IsString(slack('user_not_found')) @IsNotEmpty(slack('user_not_found'))
  user: string;
}

@Controller('api')
@UseGuards(SlackAuthGuard, SlackRateLimitGuard)
@UsePipes(slackValidation)
export class UsersController {
  constructor(private readonly workspaces: WorkspacesService) {}

  @All('auth.test') @HttpCode(200)
  async authTest(@CurrentCaller() caller: Caller) {
    const workspace = await this.workspaces.findWorkspace(caller.workspace);
    return {
      ok: true,
      url: `https://${caller.workspace.toLowerCase()}.atomcast.local/`,
      team: workspace?.name,
      user: caller.user.name,
      team_id: caller.workspace,
      user_id: caller.user.id,
      is_enterprise_install: false,
    };
  }

  @All('users.info') @HttpCode(200)
  async info(@CurrentCaller() caller: Caller, @SlackArgs() args: UserArgs) {
    const user = await this.workspaces.findUser(caller.workspace, args.user);
    if (!user) throw new SlackError('user_not_found');
    return { ok: true, user: toSlackUser(user) };
  }

  @All('users.list') @HttpCode(200)
  async list(@CurrentCaller() caller: Caller, @SlackArgs() args: PageArgs) {
    const limit = pageSize(args.limit, 200, 1000);
    const rows = await this.workspaces.listUsers(caller.workspace, decodeCursor(args.cursor, 'user') ?? '', limit + 1);
    const page = rows.slice(0, limit);
    return {
      ok: true,
      members: page.map(toSlackUser),
      response_metadata: { next_cursor: rows.length > limit ? encodeCursor('user', page[page.length - 1].id) : '' },
    };
  }
}
