import type { ChannelEvent } from '../../domain/events.js';
import { type AppView, type ChannelFacts, eventCallback, eventIdFor, slackEventsFor } from './event-payloads.js';

const app: AppView = {
  id: 'A1',
  workspace: 'T1',
  botUserId: 'UBOT',
  subscriptions: new Set(['message.channels', 'message.im', 'app_mention', 'channel_created', 'member_joined_channel']),
};
const publicChannel: ChannelFacts = { workspace: 'T1', isPrivate: false, kind: 'channel' };
const privateChannel: ChannelFacts = { workspace: 'T1', isPrivate: true, kind: 'channel' };
const im: ChannelFacts = { workspace: 'T1', isPrivate: true, kind: 'im' };
const noBots = () => undefined;
const message = (over: Partial<ChannelEvent> = {}) =>
  ({ channel: 'C1', seq: 7, ts: '1700000000.000100', type: 'message', user: 'U1', text: 'hello', ...over }) as ChannelEvent;
const types = (out: { event: Record<string, unknown> }[]) => out.map((o) => o.event.type);

describe('slackEventsFor', () => {
  it('gives a member bot the message with its channel type', () => {
    const [out] = slackEventsFor(message(), app, publicChannel, true, noBots);
    expect(out.event).toEqual({
      type: 'message',
      user: 'U1',
      text: 'hello',
      ts: '1700000000.000100',
      channel: 'C1',
      event_ts: '1700000000.000100',
      channel_type: 'channel',
    });
    expect(slackEventsFor(message({ channel: 'D1' }), app, im, true, noBots)[0].event.channel_type).toBe('im');
  });

  it('gives nothing from a conversation the bot is not in, nor of a type it did not subscribe to', () => {
    expect(slackEventsFor(message(), app, publicChannel, false, noBots)).toEqual([]);
    expect(slackEventsFor(message(), app, privateChannel, true, noBots)).toEqual([]); // no message.groups
    expect(slackEventsFor(message(), app, { ...publicChannel, workspace: 'T2' }, true, noBots)).toEqual([]);
  });

  it("never the bot's own messages, nor tombstones", () => {
    expect(slackEventsFor(message({ user: 'UBOT' }), app, publicChannel, true, noBots)).toEqual([]);
    expect(slackEventsFor(message({ subtype: 'tombstone', text: '' } as Partial<ChannelEvent>), app, publicChannel, true, noBots)).toEqual(
      [],
    );
  });

  it('a mention of the bot is a message and an app_mention, with distinct stable ids', () => {
    const event = message({ text: 'hey <@UBOT> deploy' } as Partial<ChannelEvent>);
    const out = slackEventsFor(event, app, publicChannel, true, () => 'B9');
    expect(types(out)).toEqual(['message', 'app_mention']);
    expect(out[1].event).not.toHaveProperty('channel_type');
    expect(out[0].event.bot_id).toBe('B9');
    const ids = out.map((o) => eventIdFor(event, o.suffix));
    expect(ids).toEqual(['EvC1S7', 'EvC1S7M']);
    expect(eventCallback(app, ids[0], out[0].event)).toMatchObject({
      type: 'event_callback',
      event_id: 'EvC1S7',
      event_time: 1700000000,
      api_app_id: 'A1',
    });
  });

  it('channel_created only for public channels of its workspace, member or not', () => {
    const created = {
      channel: 'C2',
      seq: 1,
      ts: '1700000000.000001',
      type: 'channel_created',
      user: 'U1',
      name: 'new',
      is_private: false,
    } as ChannelEvent;
    expect(types(slackEventsFor(created, app, publicChannel, false, noBots))).toEqual(['channel_created']);
    expect(slackEventsFor({ ...created, is_private: true } as ChannelEvent, app, privateChannel, true, noBots)).toEqual([]);
  });
});
