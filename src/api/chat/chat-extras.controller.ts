import { Inject } from '@nestjs/common';
import { CONFIG, type Config } from '../../config/config.js';
import { channelPolicy, enforce } from '../../domain/channel-policy.js';
import { SlackError } from '../../domain/slack-error.js';
import { formatTs, requireTs } from '../../domain/ts.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { ChannelsRepository } from '../channels.repository.js';
import { MessagesRepository } from '../messages.repository.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import { GetPermalinkArgs, MeMessageArgs, PostEphemeralArgs } from './chat.dto.js';
import { ChatService } from './chat.service.js';
import { EphemeralMessages } from './ephemeral-messages.service.js';

/** The rest of a bot's daily calls: ephemeral messages, /me messages, permalinks, team.info. */
@SlackMethods()
export class ChatExtrasController {
  constructor(
    private readonly chat: ChatService,
    private readonly ephemeral: EphemeralMessages,
    private readonly channels: ChannelsRepository,
    private readonly messages: MessagesRepository,
    private readonly workspaces: WorkspacesService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @SlackMethod('chat.postEphemeral')
  async postEphemeral(@CurrentCaller() caller: Caller, @SlackArgs() args: PostEphemeralArgs) {
    return this.ephemeral.post(caller, args);
  }

  /** A message with subtype `me_message` ("/me waves"); Slack answers with channel and ts only. */
  @SlackMethod('chat.meMessage')
  async meMessage(@CurrentCaller() caller: Caller, @SlackArgs() args: MeMessageArgs) {
    const posted = await this.chat.postMessage(caller, { channel: args.channel, text: args.text }, 'me_message');
    return { channel: posted.channel, ts: posted.ts };
  }

  /**
   * The web client's address of a message: `<PUBLIC_URL>/archives/<channel>/p<ts without the dot>`,
   * as Slack's permalinks read (a reply adds `thread_ts` and `cid`). Only for someone who may read it.
   */
  @SlackMethod('chat.getPermalink')
  async getPermalink(@CurrentCaller() caller: Caller, @SlackArgs() args: GetPermalinkArgs) {
    const ts = requireTs(args.message_ts, 'message_not_found');
    const head = await this.channels.find(caller.workspace, args.channel, caller.user.id);
    enforce(channelPolicy('read', { head, caller: caller.user, member: head?.is_member ?? false }));
    const message = await this.messages.target(args.channel, ts);
    if (!message) throw new SlackError('message_not_found');
    const base = this.config.PUBLIC_URL.replace(/\/+$/, '');
    const link = new URL(`${base}/archives/${args.channel}/p${formatTs(ts).replace('.', '')}`);
    if (message.thread_ts) {
      link.searchParams.set('thread_ts', formatTs(message.thread_ts));
      link.searchParams.set('cid', args.channel);
    }
    return { channel: args.channel, permalink: link.toString() };
  }

  /** The caller's workspace, as Slack's team object (this server has one domain for all workspaces). */
  @SlackMethod('team.info')
  async teamInfo(@CurrentCaller() caller: Caller) {
    const workspace = await this.workspaces.findWorkspace(caller.workspace);
    if (!workspace) throw new SlackError('team_not_found');
    const url = new URL(this.config.PUBLIC_URL);
    return {
      team: {
        id: workspace.id,
        name: workspace.name,
        url: `${url.origin}/`,
        domain: url.hostname,
        email_domain: '',
        icon: { image_default: true },
        is_verified: false,
      },
    };
  }
}
