// The real app for (c), in its own process (its own event loop and core, as in production).
// Reports its port over IPC and stops on a "stop" message, exiting normally so that a --cpu-prof
// profile gets written.
import 'reflect-metadata';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';

const config = loadConfig();
const app = await createApp(config);
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
process.send?.({ port });
process.on('message', (msg: { stop?: boolean }) => {
  if (msg.stop) void app.close().finally(() => process.exit(0));
});
