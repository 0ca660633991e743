// The real app for (c), in its own process (its own event loop and core, as in production).
// Reports its port over IPC; stops on SIGTERM through Nest's shutdown hooks.
import 'reflect-metadata';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';

const config = loadConfig();
const app = await createApp(config);
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
process.send?.({ port });
