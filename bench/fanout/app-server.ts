// The real app for bench:fanout in its own process. Answers {rss: true} with its resident set size
// measured after a full garbage collection (run with --expose-gc), so per-connection memory is
// not blurred by garbage that has not been collected yet.
import 'reflect-metadata';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { collectedRss } from './rss.js';

const app = await createApp(loadConfig());
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
process.send!({ port });
process.on('message', (msg: { rss?: boolean; stop?: boolean }) => {
  if (msg.rss) process.send!({ rss: collectedRss() });
  if (msg.stop) void app.close().finally(() => process.exit(0));
});
