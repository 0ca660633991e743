// The app in a child process (createApp, configured by its environment), for tests that kill a
// node with SIGKILL. Tells its parent the port it listens on.
import 'reflect-metadata';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';

const app = await createApp(loadConfig());
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
process.send!({ port });
