import 'reflect-metadata';
import http from 'node:http';
import pg from 'pg';
import { Pool as UndiciPool } from 'undici';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { loadConfig } from '../../src/config/config.js';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { createPool } from '../../src/db/database.js';
import { EventStore } from '../../src/event-store/event-store.js';
import type { Operation } from './load.js';
import { type BenchData, PLAIN_TABLE } from './setup.js';
import type { Variant } from './variants.js';

export interface Workload {
  op: Operation;
  close(): Promise<void>;
}

export interface WorkloadOptions {
  data: BenchData;
  clients: number;
  channels: number;
  /** (c), (e), (g): where the server listens, and which client library drives it. */
  appUrl?: string;
  httpClient?: HttpClient;
  /**
   * (e) only: the bare route's server without a database, `POST /api/bench.ping` with the same body
   * and headers, answered `{"ok":true}` with no token check and no query: one HTTP round trip.
   */
  noDatabase?: boolean;
  /** (a) as a named prepared statement (parsed once per connection) instead of pg's default unnamed one. */
  namedBaseline?: boolean;
}

export type HttpClient = 'undici' | 'http' | 'fetch';

const pick = (channels: number) => Math.floor(Math.random() * channels);
let counter = 0;
const text = (client: number) => `bench message ${++counter} from client ${client}`;

export async function workload(variant: Variant, o: WorkloadOptions): Promise<Workload> {
  switch (variant) {
    case 'a':
      return plainInsert(o);
    case 'b':
      return eventStore(o);
    case 'c':
    case 'e':
    case 'g':
      return o.httpClient === 'fetch' ? httpFetch(o) : o.httpClient === 'http' ? httpNode(o) : httpUndici(o);
    case 'd':
      return emmett(o);
    case 'f':
      return bareAppend(o);
  }
}

/** (a) One autocommitted single-row INSERT per call: the best a writer can do through `pg`. */
function plainInsert({ data, clients, channels, namedBaseline }: WorkloadOptions): Workload {
  const pool = createPool(data.url, clients);
  const sql = `INSERT INTO ${PLAIN_TABLE} (channel_id, ts, type, user_id, data) VALUES ($1, $2, 'message', $3, $4)`;
  return {
    op: async (client) => {
      const user = data.users[client % data.users.length].id;
      const values = [data.channels[pick(channels)], Date.now() * 1000, user, { text: text(client) }];
      await pool.query(namedBaseline ? { name: 'bench_plain_insert', text: sql, values } : { text: sql, values });
      return true;
    },
    close: () => pool.end(),
  };
}

/**
 * (f) The bare gapless append (head row update + event insert, one statement) that issue 2 quotes
 * at 0.79 of a plain INSERT: no membership or idempotency checks, no body row, no hint. Opt-in
 * (`--variants abcdef`); it tells the cost of the append from the cost of what post_message adds.
 */
function bareAppend({ data, clients, channels }: WorkloadOptions): Workload {
  const pool = createPool(data.url, clients);
  return {
    op: async (client) => {
      const user = data.users[client % data.users.length].id;
      const { rows } = await pool.query('SELECT seq FROM append_event($1, $2, $3, $4, NULL)', [
        data.channels[pick(channels)],
        'message',
        user,
        { text: text(client) },
      ]);
      return rows.length === 1;
    },
    close: () => pool.end(),
  };
}

/** (b) The event store without Nest, fan-out hint on (NOTIFY after commit, coalesced). */
function eventStore({ data, clients, channels }: WorkloadOptions): Workload {
  const pool = createPool(data.url, clients);
  const config = loadConfig({ DATABASE_URL: data.url, LOG_LEVEL: 'warn' });
  const store = new EventStore(pool, config);
  const chat = new ChatRepository(pool, store);
  return {
    op: async (client) => {
      const posted = await chat.postMessage({
        workspace: data.workspace,
        channel: data.channels[pick(channels)],
        user: data.users[client % data.users.length].id,
        text: text(client),
      });
      return posted.seq > 0;
    },
    close: async () => {
      await store.flushHints();
      await pool.end();
    },
  };
}

const httpPath = (o: WorkloadOptions) => (o.noDatabase ? '/api/bench.ping' : '/api/chat.postMessage');

function postBody(o: WorkloadOptions, client: number) {
  const body = JSON.stringify({ channel: o.data.channels[pick(o.channels)], text: text(client) });
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    authorization: `Bearer ${o.data.users[client % o.data.users.length].token}`,
  };
  return { body, headers };
}

/** (c) with an undici pool of `clients` keep-alive connections, no pipelining. */
function httpUndici(o: WorkloadOptions): Workload {
  const pool = new UndiciPool(new URL(o.appUrl!).origin, { connections: o.clients, pipelining: 1 });
  return {
    op: async (client) => {
      const { body, headers } = postBody(o, client);
      const res = await pool.request({ path: httpPath(o), method: 'POST', headers, body });
      const answer = await res.body.text();
      return res.statusCode === 200 && answer.startsWith('{"ok":true');
    },
    close: () => pool.close(),
  };
}

/** (c) with node:http and a keep-alive agent of `clients` sockets: the cheapest client Node has. */
function httpNode(o: WorkloadOptions): Workload {
  const url = new URL(httpPath(o), o.appUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.clients });
  return {
    op: (client) =>
      new Promise<boolean>((resolve, reject) => {
        const { body, headers } = postBody(o, client);
        const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
          let answer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (answer += chunk));
          res.on('end', () => resolve(res.statusCode === 200 && answer.startsWith('{"ok":true')));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      }),
    close: async () => agent.destroy(),
  };
}

/** (c) with the global fetch (undici, keep-alive by default); costs the load generator more CPU. */
function httpFetch(o: WorkloadOptions): Workload {
  const url = new URL(httpPath(o), o.appUrl).toString();
  return {
    op: async (client) => {
      const { body, headers } = postBody(o, client);
      const res = await fetch(url, { method: 'POST', headers, body });
      const answer = await res.text();
      return res.status === 200 && answer.startsWith('{"ok":true');
    },
    close: async () => {},
  };
}

/** (d) The peer: Emmett's PostgreSQL event store, one event per call, one stream per channel. */
function emmett({ data, clients, channels }: WorkloadOptions): Workload {
  const pool = new pg.Pool({ connectionString: data.url, max: clients });
  pool.on('error', () => {});
  const store = getPostgreSQLEventStore(data.url, {
    schema: { autoMigration: 'None' },
    connectionOptions: { pool },
  });
  return {
    op: async (client) => {
      const channel = data.channels[pick(channels)];
      const user = data.users[client % data.users.length].id;
      // Without an expected version Emmett still detects a concurrent append to the same stream and
      // throws ExpectedVersionConflictError: counted as a failure, not retried (as the peer behaves).
      await store.appendToStream(`channel-${channel}`, [{ type: 'MessagePosted', data: { channel, user, text: text(client) } }]);
      return true;
    },
    close: async () => {
      await store.close();
      await pool.end().catch(() => {}); // already ended if Emmett closed the pool it was given
    },
  };
}
