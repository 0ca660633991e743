// The least a NOTIFY-woken consumer can do, in its own process: LISTEN on the event store's channel
// and, woken (at most one pass per CONSUMER_PASS_GAP_MS, as the consumers coalesce), send one
// statement and wait for its answer. No Nest, no parsing, no writes. bench:consumers measures its
// CPU per event at the low rate beside the real consumers': what waking up costs on this machine.
// Says "ready" over IPC and stops on a "stop" message.
import pg from 'pg';
import { loadConfig } from '../../src/config/config.js';
import { EVENTS_NOTIFY_CHANNEL } from '../../src/event-store/fanout-hint.js';

const config = loadConfig();
const listener = new pg.Client(config.DATABASE_URL);
const reader = new pg.Client(config.DATABASE_URL);
await Promise.all([listener.connect(), reader.connect()]);
await listener.query(`LISTEN ${EVENTS_NOTIFY_CHANNEL}`);

let queued = false;
let lastStart = -Infinity;
let chain: Promise<unknown> = Promise.resolve();
listener.on('notification', () => {
  if (queued) return;
  queued = true;
  chain = chain.then(async () => {
    const wait = lastStart + config.CONSUMER_PASS_GAP_MS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    queued = false;
    lastStart = performance.now();
    await reader.query('SELECT 1');
  });
});

process.send?.({ ready: true });
const stop = () => void Promise.allSettled([listener.end(), reader.end()]).finally(() => process.exit(0));
process.on('message', (msg: { stop?: boolean }) => {
  if (msg.stop) stop();
});
// The benchmark died without stopping us: do not linger as an orphan.
process.on('disconnect', stop);
