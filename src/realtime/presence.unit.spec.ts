import { loadConfig } from '../config/config.js';
import type { Caller } from '../workspaces/workspaces.service.js';
import { Presence } from './presence.js';
import type { EphemeralBus } from './ephemeral-bus.js';
import { Session } from './session.js';

describe('Presence across nodes', () => {
  const config = loadConfig({ PRESENCE_HEARTBEAT_MS: '1000', PRESENCE_AWAY_DELAY_MS: '0' });
  const bus = { nodeId: 'here', publish: async () => {} } as unknown as EphemeralBus;
  const watcherSocket = {
    sent: [] as unknown[],
    emit(e: string, d: unknown) {
      this.sent.push([e, d]);
    },
    conn: {},
  };
  const watcher = new Session(watcherSocket as never, { user: { id: 'UW' }, workspace: 'T1', tokenId: 't' } as unknown as Caller);

  it('forgets a node that stopped its heartbeat (kill -9): its users turn away after three missed beats', () => {
    const presence = new Presence(bus, config);
    presence.subscribe(watcher, ['UZ']);
    const sweep = (now: number) => (presence as unknown as { sweep(now: number): void }).sweep(now);
    const t0 = Date.now();
    presence.apply('there', 'UZ', 'active', t0); // an announcement or a beat from the other node
    expect(presence.state('UZ')).toBe('active');
    sweep(t0 + 2500); // two beats missed: still counts
    expect(presence.state('UZ')).toBe('active');
    presence.apply('there', 'UZ', 'active', t0 + 2500); // a beat: the claim is renewed
    sweep(t0 + 5000);
    expect(presence.state('UZ')).toBe('active');
    sweep(t0 + 5600); // three beats missed
    expect(presence.state('UZ')).toBe('away');
    expect(watcherSocket.sent).toEqual([
      ['presence', { user: 'UZ', presence: 'active' }],
      ['presence', { user: 'UZ', presence: 'away' }],
    ]);
  });
});
