import { Injectable } from '@nestjs/common';
import { channelNameError, toSlackChannel } from '../../domain/channel.js';
import { type ChannelAction, channelPolicy, enforce } from '../../domain/channel-policy.js';
import { SlackError } from '../../domain/slack-error.js';
import { EventStore, type StreamTransaction } from '../../event-store/event-store.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { ChannelsRepository } from '../channels.repository.js';

/** Slack's limit on topics and purposes. */
const DESCRIPTION_MAX = 250;

/**
 * conversations.rename, setTopic, setPurpose and unarchive: each changes the channel row and appends
 * the event Slack sends (channel_rename, channel_topic, channel_purpose, channel_unarchive) in one
 * transaction under the channel lock, so the stream and the row never disagree.
 */
@Injectable()
export class ChannelSettingsService {
  constructor(
    private readonly events: EventStore,
    private readonly channels: ChannelsRepository,
  ) {}

  async rename(caller: Caller, channel: string, name: string) {
    const invalid = channelNameError(name);
    if (invalid) throw new SlackError(invalid);
    return this.inChannel(caller, channel, 'rename', async (tx) => {
      if (!(await this.channels.rename(tx.db, channel, name))) throw new SlackError('name_taken');
      await tx.append(channel, 'channel_rename', caller.user.id, { name });
    });
  }

  async describe(caller: Caller, channel: string, field: 'topic' | 'purpose', value: string) {
    if ([...value].length > DESCRIPTION_MAX) throw new SlackError('too_long');
    return this.inChannel(caller, channel, 'describe', async (tx) => {
      await this.channels.describe(tx.db, channel, field, value, caller.user.id);
      if (field === 'topic') await tx.append(channel, 'channel_topic', caller.user.id, { topic: value });
      else await tx.append(channel, 'channel_purpose', caller.user.id, { purpose: value });
    });
  }

  /** Slack adds the caller back to the channel it unarchives. */
  async unarchive(caller: Caller, channel: string) {
    await this.inChannel(caller, channel, 'unarchive', async (tx, member) => {
      await this.channels.archive(tx.db, channel, false);
      await tx.append(channel, 'channel_unarchive', caller.user.id);
      if (!member) {
        const joined = await tx.append(channel, 'member_joined_channel', caller.user.id);
        await this.channels.addMember(tx.db, channel, caller.user.id, joined.seq);
      }
    });
    return {};
  }

  /** Locks the channel, applies the rule for `action`, runs `change`, and answers the channel as it is now. */
  private inChannel(
    caller: Caller,
    channel: string,
    action: ChannelAction,
    change: (tx: StreamTransaction, member: boolean) => Promise<void>,
  ) {
    return this.events.transaction(async (tx) => {
      const head = await tx.lockChannel(channel, caller.workspace);
      const member = head ? await this.channels.isMember(tx.db, channel, caller.user.id) : false;
      enforce(channelPolicy(action, { head, caller: caller.user, member }));
      await change(tx, member);
      return { channel: toSlackChannel((await this.channels.find(caller.workspace, channel, caller.user.id, tx.db))!) };
    });
  }
}
