// The baseline for bench:fanout: a plain Socket.IO server (no auth, no store, no rooms), same
// options as ours, that broadcasts whatever the parent sends it to every connected socket.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { collectedRss } from './rss.js';

const http = createServer();
const io = new Server(http, { perMessageDeflate: false, httpCompression: false, maxHttpBufferSize: 256 * 1024 });
http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as { port: number };
  process.send!({ port });
});
process.on('message', (msg: { broadcast?: unknown; rss?: boolean; stop?: boolean }) => {
  if (msg.broadcast) io.emit('event', msg.broadcast);
  if (msg.rss) process.send!({ rss: collectedRss() });
  if (msg.stop) {
    io.close();
    process.exit(0);
  }
});
