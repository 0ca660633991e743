// A client process for bench:profiles: opens Socket.IO connections, subscribes some of them to a
// user, and counts the `user_change` packets its sockets received and their bytes on the wire
// (the Socket.IO frame `42["user_change",{...}]`, which is what the server writes per socket).
import { io, type Socket } from 'socket.io-client';

export type ProfileClientCommand =
  | { type: 'connect'; url: string; sockets: Array<{ token: string; subscribe?: string }>; concurrency: number }
  | { type: 'report' }
  | { type: 'close' };

export type ProfileClientReport =
  | { type: 'connected'; ok: number; failed: number }
  | { type: 'report'; sockets: number; packets: number; bytes: number }
  | { type: 'closed' };

const send = (msg: ProfileClientReport) => process.send!(msg);
const sockets: Socket[] = [];
const reached = new Set<Socket>();
let packets = 0;
let bytes = 0;

function open(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 60_000 });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });
}

async function connectAll(cmd: Extract<ProfileClientCommand, { type: 'connect' }>): Promise<void> {
  let ok = 0;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < cmd.sockets.length) {
      const spec = cmd.sockets[next++];
      try {
        const socket = await open(cmd.url, spec.token);
        socket.on('user_change', (payload: unknown) => {
          reached.add(socket);
          packets++;
          bytes += Buffer.byteLength(`42${JSON.stringify(['user_change', payload])}`);
        });
        await socket.timeout(60_000).emitWithAck('sync', { cursors: {} });
        if (spec.subscribe) {
          const ack = (await socket.timeout(60_000).emitWithAck('users.subscribe', { users: [spec.subscribe] })) as { ok: boolean };
          if (!ack.ok) throw new Error('users.subscribe refused');
        }
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

process.on('message', (cmd: ProfileClientCommand) => {
  if (cmd.type === 'connect') void connectAll(cmd);
  else if (cmd.type === 'report') {
    send({ type: 'report', sockets: reached.size, packets, bytes });
    reached.clear();
    packets = 0;
    bytes = 0;
  } else {
    for (const s of sockets) s.disconnect();
    send({ type: 'closed' });
    setImmediate(() => process.exit(0));
  }
});
