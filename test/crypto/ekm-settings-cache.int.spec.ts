import pg from 'pg';
import { loadConfig } from '../../src/config/config.js';
import { BodyCipher } from '../../src/crypto/body-cipher.js';
import { EkmRepository } from '../../src/crypto/ekm.repository.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// The EKM settings are cached for 2 s; when the entry expires under load, the requests that miss it
// together must share one read instead of each sending its own (a burst of identical queries).
describe('BodyCipher settings cache', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let reads = 0;
  let cipher: BodyCipher;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 8 });
    await pool.query(`INSERT INTO workspaces (id, name) VALUES ('TCACHE', 'cache')`);
    const counted = new Proxy(pool, {
      get(target, prop) {
        if (prop !== 'query') return Reflect.get(target, prop);
        return (...args: Parameters<pg.Pool['query']>) => {
          if (String(args[0]).includes('ekm_workspaces')) reads++;
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      },
    });
    cipher = new BodyCipher(new EkmRepository(counted), {} as never, loadConfig({}));
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('answers callers that miss the cache together with one read', async () => {
    reads = 0;
    const all = await Promise.all(Array.from({ length: 20 }, () => cipher.settings('TCACHE')));
    expect(all.every((s) => s === undefined)).toBe(true);
    expect(reads).toBe(1);
    await cipher.settings('TCACHE');
    expect(reads).toBe(1); // cached now
  });

  it('reads again when asked for fresh settings, and later callers get the fresh answer', async () => {
    await pool.query(`INSERT INTO ekm_workspaces (workspace_id, provider, key_ref) VALUES ('TCACHE', 'local', 'v1')`);
    expect(await cipher.settings('TCACHE')).toBeUndefined(); // still the cached "no EKM"
    reads = 0;
    const [fresh, joined] = await Promise.all([cipher.settings('TCACHE', true), cipher.settings('TCACHE')]);
    expect(fresh?.provider).toBe('local');
    expect(joined).toBeUndefined(); // asked before the fresh read finished: served from the cache it still held
    expect((await cipher.settings('TCACHE'))?.provider).toBe('local');
    expect(reads).toBe(1);
  });
});
