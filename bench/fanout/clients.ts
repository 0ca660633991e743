// A client process for bench:fanout: opens many Socket.IO connections and reports, per message
// key, when the last of its sockets that should get it did. Clients run apart from the server so
// that the server's core does not also parse every receipt.
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';

export type ClientCommand =
  | { type: 'connect'; url: string; sockets: Array<{ token?: string; channel: string }>; concurrency: number }
  | { type: 'catchup'; url: string; token: string; channel: string; count: number }
  | { type: 'close' };

export type ClientReport =
  | { type: 'connected'; ok: number; failed: number }
  | { type: 'done'; key: string; count: number; at: number }
  | { type: 'catchup'; ms: number; received: number }
  | { type: 'closed' };

const now = () => performance.timeOrigin + performance.now();
const send = (msg: ClientReport) => process.send!(msg);
const sockets: Socket[] = [];
const expected = new Map<string, number>(); // channel -> sockets here
const seen = new Map<string, number>(); // key -> receipts here

function onEvent(e: { channel: string; text?: string }): void {
  if (!e.text) return;
  const n = (seen.get(e.text) ?? 0) + 1;
  seen.set(e.text, n);
  if (n === expected.get(e.channel)) {
    send({ type: 'done', key: e.text, count: n, at: now() });
    seen.delete(e.text);
  }
}

function open(url: string, token: string | undefined, extra: Record<string, unknown> = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { auth: { token, ...extra }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 60_000 });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });
}

async function connectAll(cmd: Extract<ClientCommand, { type: 'connect' }>): Promise<void> {
  let ok = 0;
  let failed = 0;
  let next = 0;
  for (const s of cmd.sockets) expected.set(s.channel, (expected.get(s.channel) ?? 0) + 1);
  const worker = async () => {
    while (next < cmd.sockets.length) {
      const spec = cmd.sockets[next++];
      try {
        const socket = await open(cmd.url, spec.token);
        socket.on('event', onEvent);
        // Our server answers `sync {}` once it has read the socket's channels: from then on it is live.
        if (spec.token) await socket.timeout(60_000).emitWithAck('sync', { cursors: {} });
        sockets.push(socket);
        ok++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: cmd.concurrency }, worker));
  send({ type: 'connected', ok, failed });
}

async function catchUp(cmd: Extract<ClientCommand, { type: 'catchup' }>): Promise<void> {
  const socket = await open(cmd.url, cmd.token, { sync: true });
  let received = 0;
  const done = new Promise<void>((resolve) => {
    socket.on('event', (e: { channel: string }) => {
      if (e.channel === cmd.channel && ++received === cmd.count) resolve();
    });
  });
  const start = now();
  socket.emit('sync', { cursors: { [cmd.channel]: 0 } });
  await done;
  const ms = now() - start;
  socket.disconnect();
  send({ type: 'catchup', ms, received });
}

process.on('message', (cmd: ClientCommand) => {
  if (cmd.type === 'connect') void connectAll(cmd);
  else if (cmd.type === 'catchup') void catchUp(cmd);
  else {
    for (const s of sockets.splice(0)) s.disconnect();
    expected.clear();
    seen.clear();
    send({ type: 'closed' });
  }
});
