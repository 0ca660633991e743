import { EphemeralBus, type EphemeralSignal } from './ephemeral-bus.js';
import type { RealtimeRepository } from './realtime.repository.js';
import type { Relay } from './relay.js';

describe('EphemeralBus', () => {
  // A relay that hands the bus's listener back, and a repository that records each NOTIFY.
  const notified: Array<[string, string]> = [];
  let hear: (payload: string) => void = () => {};
  const relay = { listen: (_channel: string, listener: (payload: string) => void) => (hear = listener) } as unknown as Relay;
  const repo = {
    notify: async (channel: string, payload: string) => void notified.push([channel, payload]),
  } as unknown as RealtimeRepository;
  const bus = new EphemeralBus(relay, repo);
  const heard: EphemeralSignal[] = [];
  bus.subscribe((signal) => heard.push(signal));

  it('publishes a signal as one NOTIFY on its own channel, and hands subscribers what comes back', async () => {
    const signal: EphemeralSignal = { kind: 'counts', node: bus.nodeId, user: 'U1', channel: 'C1' };
    await bus.publish(signal);
    expect(notified).toEqual([['atomcast_ephemeral', JSON.stringify(signal)]]);
    hear(notified[0][1]);
    expect(heard).toEqual([signal]);
  });

  it('drops what is not a signal it knows: bad JSON, no node, unknown kinds, wrong field types', () => {
    heard.length = 0;
    for (const payload of [
      'not json',
      JSON.stringify({ kind: 'typing', channel: 'C1', user: 'U1' }),
      JSON.stringify({ kind: 'wave', node: 'n', user: 'U1' }),
      JSON.stringify({ kind: 'presence', node: 'n', user: 'U1', presence: 'busy' }),
      JSON.stringify({ kind: 'counts', node: 'n', user: 7, channel: 'C1' }),
    ])
      hear(payload);
    hear(JSON.stringify({ kind: 'presence-beat', node: 'n', users: ['U1', 2, 'U2'] }));
    expect(heard).toEqual([{ kind: 'presence-beat', node: 'n', users: ['U1', 'U2'] }]);
  });
});
