import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import { migrate } from '../../src/db/database.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { freePort } from '../support/free-port.js';

// A PostgreSQL of this test's own (initdb into a temp dir, another port), so stopping it disturbs
// no other test file; never the shared server.
const BIN = '/usr/lib/postgresql/15/bin';
// stdio ignored: the server pg_ctl leaves running must not hold this process's pipes open.
const asPostgres = (cmd: string, args: string[]) =>
  process.getuid?.() === 0
    ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'ignore' })
    : execFileSync(cmd, args, { stdio: 'ignore' });

class OwnPostgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'atomcast-pg-'));
  readonly data = join(this.dir, 'data');
  constructor(readonly port: number) {
    chmodSync(this.dir, 0o777);
    asPostgres(`${BIN}/initdb`, ['-D', this.data, '-U', 'postgres', '--auth=trust', '-N']);
  }
  start() {
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=off`;
    asPostgres(`${BIN}/pg_ctl`, ['-D', this.data, '-o', opts, '-l', join(this.dir, 'log'), '-w', 'start']);
  }
  stop() {
    asPostgres(`${BIN}/pg_ctl`, ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
  }
  remove() {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
  url(db = 'postgres') {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }
}

describe('PostgreSQL down: the Web API answers as an outage', () => {
  let server: OwnPostgres;
  let t: TestApp;
  let ada: TestUser;
  let bob: TestUser;
  let channel: string;
  const logged: string[] = [];

  beforeAll(async () => {
    server = new OwnPostgres(await freePort());
    server.start();
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE atomcast_outage');
    await admin.end();
    const url = server.url('atomcast_outage');
    await migrate(url);
    t = await TestApp.start({ JOBS_DISPATCHER_ENABLED: 'false', ROLES: 'api' }, { name: 'atomcast_outage', url, drop: async () => {} });
    ada = await t.newUser(await t.newWorkspace());
    bob = await t.newUser(ada.workspace);
    channel = await t.newChannel(ada, 'outage');
    // What the app logs (the test app's level is silent, so read what it asks to log).
    for (const level of ['error', 'warn', 'log'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation(function (this: Logger, message: unknown) {
        logged.push(`${level}: ${String(message)}`);
      });
    }
  }, 60_000);
  afterAll(async () => {
    jest.restoreAllMocks();
    try {
      await t?.close();
    } finally {
      server?.remove();
    }
  });

  it('answers 503 with Retry-After and ok:false while it is down, logs one line per outage, and recovers', async () => {
    expect((await t.api('chat.postMessage', ada.token, { channel, text: 'before' })).body.ok).toBe(true);
    server.stop();

    const during = [
      await t.api('chat.postMessage', ada.token, { channel, text: 'during' }),
      await t.api('conversations.history', ada.token, { channel }),
      await t.api('conversations.list', bob.token), // never used yet: authenticating it needs the database
      await t.api('chat.postMessage', ada.token, { channel, text: 'during again' }),
    ];
    for (const res of during) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.body).toEqual({ ok: false, error: 'service_unavailable' });
    }
    const admin = await t.admin('GET', `/workspaces/${ada.workspace}/retention`);
    expect(admin.status).toBe(503);
    expect(logged.filter((l) => l.includes('PostgreSQL is unavailable'))).toHaveLength(1);
    expect(logged.filter((l) => l.includes('request failed'))).toEqual([]);

    server.start();
    const after = await t.api('chat.postMessage', ada.token, { channel, text: 'after' });
    expect(after.body.ok).toBe(true);
    expect(logged.filter((l) => l.includes('PostgreSQL is back'))).toHaveLength(1);
    const history = await t.api('conversations.history', ada.token, { channel });
    expect(history.body.messages.map((m: { text: string }) => m.text)).toEqual(['after', 'before']);

    // A second outage is a second line.
    server.stop();
    expect((await t.api('chat.postMessage', ada.token, { channel, text: 'x' })).status).toBe(503);
    expect(logged.filter((l) => l.includes('PostgreSQL is unavailable'))).toHaveLength(2);
    server.start();
  });
});
