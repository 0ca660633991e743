import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { toSlackMessage } from '../../domain/message.js';
import { SlackError } from '../../domain/slack-error.js';
import { requireTs } from '../../domain/ts.js';
import { AppsService } from '../../jobs/app-events/apps.service.js';
import { SocketModeHub } from '../../jobs/app-events/socket-mode-hub.js';
import type { AppRow } from '../../jobs/app-events/apps.repository.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { ChatService } from '../chat/chat.service.js';
import { DeleteMessageArgs, PostEphemeralArgs, PostMessageArgs, UpdateMessageArgs } from '../chat/chat.dto.js';
import { EphemeralMessages } from '../chat/ephemeral-messages.service.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { MessagesRepository } from '../messages.repository.js';
import { slackValidation } from '../slack-args.js';
import type { BlockActionArgs } from './apps.dto.js';
import { appCaller } from './app-caller.js';

/** How long a Socket Mode app has to acknowledge an interaction (Slack's 3 seconds). */
const INTERACTIVE_ACK_MS = 3000;

/**
 * Interactivity: a click on an app's message becomes Slack's `block_actions` payload, sent to the
 * app's interactivity URL (signed, `payload=` form field) or as a Socket Mode `interactive`
 * envelope, with a response_url through which the app replaces, deletes or answers the message.
 */
@Injectable()
export class InteractivityService {
  constructor(
    private readonly apps: AppsService,
    private readonly hub: SocketModeHub,
    private readonly workspaces: WorkspacesService,
    private readonly conversations: ConversationsService,
    private readonly messages: MessagesRepository,
    private readonly chat: ChatService,
    private readonly ephemeral: EphemeralMessages,
  ) {}

  async blockAction(caller: Caller, args: BlockActionArgs, base: string): Promise<void> {
    const channel = await this.conversations.visible(caller, args.channel);
    const ts = requireTs(args.message_ts, 'message_not_found');
    const row = await this.messages.find(channel.id, ts);
    if (!row) throw new SlackError('message_not_found');
    const app = await this.apps.findByBotUser(row.user_id);
    if (!app || app.uninstalled_at) throw new SlackError('invalid_arguments'); // only an app's message has actions
    const message = { ...toSlackMessage(row), bot_id: app.bot_id };
    const actionTs = (Date.now() / 1000).toFixed(6);
    const payload = {
      type: 'block_actions',
      user: { id: caller.user.id, username: caller.user.name, name: caller.user.name, team_id: caller.workspace },
      api_app_id: app.id,
      token: app.id,
      container: { type: 'message', message_ts: message.ts, channel_id: channel.id, is_ephemeral: false },
      trigger_id: `${Date.now()}.${randomBytes(8).toString('hex')}`,
      team: { id: caller.workspace, domain: caller.workspace.toLowerCase() },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channel.id, name: channel.name },
      message,
      state: { values: {} },
      response_url: await this.apps.responseUrl(app, channel.id, ts, caller.user.id, base),
      actions: [
        {
          action_id: args.action_id,
          block_id: args.block_id,
          type: args.type ?? 'button',
          ...(args.value !== undefined ? { value: args.value } : {}),
          ...(args.text !== undefined ? { text: { type: 'plain_text', text: args.text, emoji: true } } : {}),
          action_ts: actionTs,
        },
      ],
    };
    await this.dispatch(app, payload);
  }

  /** Socket Mode when the app has a connection here, else its interactivity URL; `dispatch_failed` when neither answers. */
  private async dispatch(app: AppRow, payload: Record<string, unknown>): Promise<void> {
    if (this.hub.connections(app.id).length) {
      const acked = await new Promise<boolean>((resolve) => {
        const sent = this.hub.send(app.id, 'interactive', payload, () => resolve(true));
        if (!sent) return resolve(false);
        setTimeout(() => {
          this.hub.abandon(sent.envelopeId);
          resolve(false);
        }, INTERACTIVE_ACK_MS).unref();
      });
      if (acked) return;
    }
    if (!app.interactivity_url) throw new SlackError('dispatch_failed');
    await this.apps.postInteraction(app, payload).catch(() => {
      throw new SlackError('dispatch_failed');
    });
  }

  /**
   * What an app sends to a response_url: `delete_original`, `replace_original` (the message is
   * edited as the app), a new message (`response_type: in_channel`), or an ephemeral one for the
   * clicking user (`response_type: ephemeral` or none).
   */
  async respond(id: string, secret: string, body: Record<string, unknown>): Promise<void> {
    const target = await this.apps.spendResponseUrl(id, secret);
    if (!target) throw new SlackError('expired_url');
    const bot = await appCaller(this.workspaces, target.app);
    const ts = (target.messageTs / 1_000_000n).toString() + '.' + (target.messageTs % 1_000_000n).toString().padStart(6, '0');
    const truthy = (v: unknown) => v === true || v === 'true';
    const { replace_original: replace, delete_original: del, response_type: type, token: _, channel: __, ts: ___, ...content } = body;
    if (truthy(del)) {
      const args = (await slackValidation.transform(
        { channel: target.channel, ts },
        { type: 'custom', metatype: DeleteMessageArgs },
      )) as DeleteMessageArgs;
      await this.chat.delete(bot, args);
      return;
    }
    if (truthy(replace)) {
      // replace_original replaces the whole message (Slack): blocks or attachments the answer leaves
      // out are gone, unlike chat.update where left-out fields stay.
      const args = (await slackValidation.transform(
        { blocks: [], attachments: [], ...content, channel: target.channel, ts },
        { type: 'custom', metatype: UpdateMessageArgs },
      )) as UpdateMessageArgs;
      await this.chat.update(bot, args);
      return;
    }
    if (type === 'in_channel') {
      const args = (await slackValidation.transform(
        { ...content, channel: target.channel },
        { type: 'custom', metatype: PostMessageArgs },
      )) as PostMessageArgs;
      await this.chat.postMessage(bot, args);
      return;
    }
    // response_type 'ephemeral', or none (Slack's default): only the person who clicked sees the
    // answer, delivered as chat.postEphemeral delivers (their sockets only, never stored).
    if (type !== undefined && type !== 'ephemeral') throw new SlackError('invalid_arguments');
    const args = (await slackValidation.transform(
      { ...content, channel: target.channel, user: target.user },
      { type: 'custom', metatype: PostEphemeralArgs },
    )) as PostEphemeralArgs;
    await this.ephemeral.post(bot, args);
  }
}
