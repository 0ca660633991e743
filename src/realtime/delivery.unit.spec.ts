import { jest } from '@jest/globals';
import { loadConfig } from '../config/config.js';
import type { EventStore } from '../event-store/event-store.js';
import type { ChannelEvent } from '../event-store/events.js';
import type { Caller } from '../workspaces/workspaces.service.js';
import { Delivery } from './delivery.js';
import type { RealtimeRepository } from './realtime.repository.js';
import { EphemeralBus } from './ephemeral-bus.js';
import { Relay } from './relay.js';
import { Session } from './session.js';
import { Typing } from './typing.js';
import { ChannelWatch } from './channel-watch.js';

// Backpressure, which an e2e test cannot provoke deterministically (loopback socket buffers absorb
// megabytes): the sockets here report their unsent bytes directly.

class FakeSocket {
  readonly rooms = new Set<string>();
  readonly sent: Array<[string, any]> = [];
  readonly conn = { writeBuffer: [] as unknown[], transport: { socket: { bufferedAmount: 0 } } };
  constructor(private readonly server: FakeServer) {}
  join(room: string) {
    this.rooms.add(room);
    this.server.members(room).add(this);
  }
  leave(room: string) {
    this.rooms.delete(room);
    this.server.members(room).delete(this);
  }
  emit(event: string, data: unknown) {
    this.sent.push([event, data]);
  }
  seqs(channel: string) {
    return this.sent.filter(([e, d]) => e === 'event' && d.channel === channel).map(([, d]) => d.seq as number);
  }
}

class FakeServer {
  private readonly rooms = new Map<string, Set<FakeSocket>>();
  members(room: string) {
    let set = this.rooms.get(room);
    if (!set) this.rooms.set(room, (set = new Set()));
    return set;
  }
  to(room: string) {
    return { emit: (event: string, data: unknown) => this.members(room).forEach((s) => s.emit(event, data)) };
  }
}

describe('Delivery backpressure', () => {
  const channel = 'C1';
  const log: ChannelEvent[] = [];
  const append = (n: number) => {
    for (let i = 0; i < n; i++) log.push({ channel, seq: log.length + 1, ts: `1.${log.length + 1}`, type: 'message', text: 'x' });
  };
  const read = (ch: string, after: number, limit: number) => log.filter((e) => e.channel === ch && e.seq > after).slice(0, limit);
  const store = {
    readChannel: async (ch: string, after: number, limit: number) => read(ch, after, limit),
    readChannels: async (from: Array<{ channel: string; afterSeq: number }>, limit: number) =>
      new Map(from.map((f) => [f.channel, read(f.channel, f.afterSeq, limit)])),
    onAppended: () => {},
  } as unknown as EventStore;
  const repo = {
    channelsOf: async (user: string) => [{ channel, user, head: log.length, joinedSeq: 1 }],
    heads: async () => new Map([[channel, log.length]]),
    membersAmong: async () => [],
    channelsOfUsers: async () => [],
    notify: async () => {},
  } as unknown as RealtimeRepository;
  const config = loadConfig({ SOCKET_RESYNC_BYTES: '4096', SOCKET_EPHEMERAL_DROP_BYTES: '1024' });
  const caller = (id: string) => ({ user: { id }, workspace: 'T1', tokenId: 't' }) as unknown as Caller;

  it('tells a congested live socket to re-sync, sends it nothing meanwhile, and resumes it without gap or duplicate', async () => {
    append(2);
    const server = new FakeServer();
    const relay = new Relay(store, repo, config);
    const delivery = new Delivery(relay, repo, config, new ChannelWatch(relay, repo));
    delivery.bind(server as any);
    const [a, b] = [new FakeSocket(server), new FakeSocket(server)];
    const sa = new Session(a as any, caller('UA'));
    const sb = new Session(b as any, caller('UB'));
    await delivery.open(sa, { [channel]: 0 });
    await delivery.open(sb, undefined);
    const settled = async () => {
      relay.hint(channel, log.length);
      for (let i = 0; i < 100 && relay.delivered(channel) !== log.length; i++) await new Promise((r) => setImmediate(r));
    };
    await settled();
    append(1);
    await settled();
    expect(a.seqs(channel)).toEqual([1, 2, 3]);
    expect(b.seqs(channel)).toEqual([3]);

    a.conn.transport.socket.bufferedAmount = 10_000; // a stalled reader
    delivery.tick();
    expect(a.sent.at(-1)).toEqual(['resync', { channel, seq: 3 }]);
    append(2);
    await settled();
    expect(a.seqs(channel)).toEqual([1, 2, 3]);
    expect(b.seqs(channel)).toEqual([3, 4, 5]); // the others do not wait for it

    // Typing and presence are the first things a congested socket goes without.
    const typing = new Typing(new EphemeralBus(relay, repo), config);
    typing.view(sa, channel);
    typing.deliver(channel, 'UB');
    expect(a.sent.filter(([e]) => e === 'typing')).toEqual([]);

    a.conn.transport.socket.bufferedAmount = 0;
    expect(await delivery.sync(sa, { [channel]: 3 })).toEqual([]);
    append(1);
    await settled();
    expect(a.seqs(channel)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(b.seqs(channel)).toEqual([3, 4, 5, 6]);
    typing.deliver(channel, 'UB');
    expect(a.sent.at(-1)).toEqual(['typing', { channel, user: 'UB' }]);
    await relay.reads.end();
  });

  it('tells a socket whose backlog read waited too long for its buffer to drain to re-sync, instead of writing on', async () => {
    log.length = 0;
    append(5);
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    const relay = new Relay(store, repo, config);
    try {
      const delivery = new Delivery(relay, repo, config, new ChannelWatch(relay, repo));
      const server = new FakeServer();
      delivery.bind(server as any);
      const a = new FakeSocket(server);
      a.conn.transport.socket.bufferedAmount = 10_000; // a reader that stopped reading
      const sa = new Session(a as any, caller('UA'));
      await delivery.open(sa, { [channel]: 0 });
      await jest.advanceTimersByTimeAsync(60_000);
      expect(a.sent).toEqual([['resync', { channel, seq: 0 }]]);

      a.conn.transport.socket.bufferedAmount = 0;
      expect(await delivery.sync(sa, { [channel]: 0 })).toEqual([]);
      expect(a.seqs(channel)).toEqual([1, 2, 3, 4, 5]);
    } finally {
      jest.useRealTimers();
      await relay.reads.end();
    }
  });
});
