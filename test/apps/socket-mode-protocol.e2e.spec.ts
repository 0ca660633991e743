import { WebSocket } from 'ws';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { installApp, type InstalledApp } from '../support/apps.js';

// Socket Mode as Slack documents it, spoken by a bare ws client: hello, events_api envelopes,
// acks, redelivery of what was not acknowledged, load shared between connections, revocation.

interface Envelope {
  envelope_id: string;
  type: string;
  retry_attempt?: number;
  retry_reason?: string;
  payload: { event_id: string; event: { type: string; text?: string; channel?: string } };
}

class AppSocket {
  readonly envelopes: Envelope[] = [];
  readonly control: Record<string, any>[] = [];
  closed = false;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg.envelope_id) this.envelopes.push(msg);
      else this.control.push(msg);
    });
    ws.on('close', () => (this.closed = true));
  }
  ack(e: Envelope) {
    this.ws.send(JSON.stringify({ envelope_id: e.envelope_id, payload: {} }));
  }
  texts() {
    return this.envelopes.map((e) => e.payload.event.text);
  }
}

describe('Socket Mode protocol', () => {
  let t: TestApp;
  let workspace: string;
  let ada: TestUser;
  let installed: InstalledApp;
  let channel: string;
  const sockets: AppSocket[] = [];

  async function connect(token = installed.appToken, autoAck = false): Promise<AppSocket> {
    const open = await t.api('apps.connections.open', token);
    if (!open.body.ok) throw new Error(JSON.stringify(open.body));
    const socket = new AppSocket(new WebSocket(open.body.url));
    sockets.push(socket);
    if (autoAck) socket.ws.on('message', (data) => JSON.parse(String(data)).envelope_id && socket.ack(JSON.parse(String(data))));
    await waitFor(() => socket.control.some((m) => m.type === 'hello'), 10_000, 'hello');
    return socket;
  }

  async function post(text: string, where = channel) {
    const res = await t.api('chat.postMessage', ada.token, { channel: where, text });
    if (!res.body.ok) throw new Error(JSON.stringify(res.body));
  }

  beforeAll(async () => {
    t = await TestApp.start({ APPS_SOCKET_ACK_TIMEOUT_MS: '400' });
    workspace = await t.newWorkspace();
    ada = await t.newUser(workspace, 'member', 'ada');
    installed = await installApp(t, workspace, { name: 'Raw', events: ['message.channels', 'message.groups'] });
    channel = await t.newChannel(ada, 'stream', false, [installed.bot]);
  });

  afterEach(() => {
    for (const s of sockets.splice(0)) s.ws.terminate();
  });

  afterAll(() => t.close());

  it('says hello with the app id', async () => {
    const s = await connect();
    expect(s.control[0]).toMatchObject({ type: 'hello', connection_info: { app_id: installed.id }, num_connections: 1 });
  });

  it('redelivers what a killed connection did not acknowledge: nothing lost, event_id repeats only for repeats', async () => {
    const a = await connect();
    const texts = Array.from({ length: 20 }, (_, i) => `kill-${i}`);
    // A acknowledges the first ten as they come and never the others (which may come again meanwhile).
    a.ws.on('message', (data) => {
      const e = JSON.parse(String(data)) as Envelope;
      if (e.envelope_id && texts.indexOf(e.payload.event.text!) < 10) a.ack(e);
    });
    for (const text of texts) await post(text);
    await waitFor(() => new Set(a.texts()).size >= 20, 15_000, 'all 20 events on A');
    expect([...new Set(a.texts())]).toEqual(texts);
    // Acks travel before the close on the same TCP stream; then the connection dies without a close handshake.
    await new Promise((r) => a.ws.send('{}', r));
    a.ws.terminate();
    const b = await connect(undefined, true);
    await waitFor(() => new Set(b.texts()).size >= 10, 15_000, 'the unacknowledged ten on B');
    await post('after'); // a barrier: anything redelivered would come before it
    await waitFor(() => b.texts().includes('after'), 15_000, 'the next event on B');
    const firstSeen = [...new Set(b.texts())];
    expect(firstSeen).toEqual([...texts.slice(10), 'after']);
    // Redelivered envelopes say so; the same event keeps its event_id, different events never share one.
    const idOf = new Map<string, string>();
    for (const e of [...a.envelopes, ...b.envelopes]) {
      const text = e.payload.event.text!;
      if (idOf.has(text)) expect(e.payload.event_id).toBe(idOf.get(text));
      idOf.set(text, e.payload.event_id);
    }
    expect(new Set(idOf.values()).size).toBe(idOf.size);
    for (const e of b.envelopes.filter((x) => texts.includes(x.payload.event.text!))) expect(e.retry_attempt).toBeGreaterThanOrEqual(1);
  });

  it('sends an envelope again when the ack deadline passes', async () => {
    const a = await connect();
    await post('late-ack');
    await waitFor(() => a.envelopes.length >= 2, 15_000, 'a second delivery of the unacknowledged event');
    const [first, again] = a.envelopes;
    expect(again.payload.event_id).toBe(first.payload.event_id);
    expect(again.envelope_id).not.toBe(first.envelope_id);
    expect(again).toMatchObject({ retry_attempt: 1, retry_reason: 'timeout' });
    a.ack(again);
    a.ws.on('message', (data) => JSON.parse(String(data)).envelope_id && a.ack(JSON.parse(String(data))));
    await post('next');
    await waitFor(() => a.texts().includes('next'), 15_000, 'the next event');
    // Its later copies (if any) are acknowledged too, so the next test starts from a drained stream.
    await post('drained');
    await waitFor(() => a.texts().includes('drained'), 15_000, 'the drain barrier');
  });

  it('several connections of one app share the load, each event once', async () => {
    const a = await connect(undefined, true);
    const b = await connect(undefined, true);
    const texts = Array.from({ length: 10 }, (_, i) => `share-${i}`);
    for (const text of texts) await post(text);
    await waitFor(() => texts.every((x) => [...a.texts(), ...b.texts()].includes(x)), 15_000, 'ten events');
    expect(a.envelopes.length).toBeGreaterThan(0);
    expect(b.envelopes.length).toBeGreaterThan(0);
    expect([...a.texts(), ...b.texts()].sort()).toEqual([...texts].sort());
  });

  it('a bot not in a private channel receives none of its events', async () => {
    const a = await connect(undefined, true);
    const secret = await t.newChannel(ada, 'secret', true);
    await post('private words', secret);
    await post('public words');
    await waitFor(() => a.texts().includes('public words'), 15_000, 'the public message');
    expect(a.texts()).toEqual(['public words']);
  });

  it('revoking the app token closes its open socket at once and refuses it; a revoked bot token is refused', async () => {
    const a = await connect(undefined, true);
    const revoke = await t.admin('POST', `/workspaces/${workspace}/apps/${installed.id}/credentials/app_token/revoke`);
    expect(revoke.status).toBe(200);
    // The answer came after the close was sent: no waiting for a poll.
    await waitFor(() => a.closed, 2000, 'the socket to close');
    expect(a.control).toContainEqual(expect.objectContaining({ type: 'disconnect', reason: 'token_revoked' }));
    expect((await t.api('apps.connections.open', installed.appToken)).body).toEqual({ ok: false, error: 'invalid_auth' });

    const rotated = await t.admin('POST', `/workspaces/${workspace}/apps/${installed.id}/credentials/app_token/rotate`);
    expect(rotated.body.app_token).toMatch(/^xapp-/);
    const b = await connect(rotated.body.app_token, true);
    await post('still flowing');
    await waitFor(() => b.texts().includes('still flowing'), 15_000, 'events on the new token');

    expect((await t.api('auth.test', installed.botToken)).body.ok).toBe(true);
    await t.admin('POST', `/workspaces/${workspace}/apps/${installed.id}/credentials/bot_token/revoke`);
    expect((await t.api('auth.test', installed.botToken)).body).toEqual({ ok: false, error: 'invalid_auth' });
    expect((await t.api('chat.postMessage', installed.botToken, { channel, text: 'x' })).body).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    const audit = await t.admin('GET', `/audit?workspace=${workspace}`);
    expect(JSON.stringify(audit.body)).toContain(installed.id);
  });

  it('a node that shuts down says disconnect first, so the app reconnects elsewhere', async () => {
    const node = await TestApp.start();
    try {
      const ws2 = await node.newWorkspace();
      const other = await installApp(node, ws2, { name: 'Leaving' });
      const open = await node.api('apps.connections.open', other.appToken);
      const s = new AppSocket(new WebSocket(open.body.url));
      await waitFor(() => s.control.some((m) => m.type === 'hello'), 10_000, 'hello');
      await node.app.close();
      await waitFor(() => s.closed, 5000, 'the close');
      expect(s.control).toContainEqual(expect.objectContaining({ type: 'disconnect', reason: 'server_shutting_down' }));
    } finally {
      await node.close().catch(() => {});
    }
  });
});
