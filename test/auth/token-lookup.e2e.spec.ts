import { jest } from '@jest/globals';
import { WorkspacesRepository } from '../../src/workspaces/workspaces.repository.js';
import { WorkspacesService } from '../../src/workspaces/workspaces.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// Callers that miss the token cache together (an entry expired under load, many sockets of one user
// reconnecting) share one database read; a revocation heard while that read is under way still
// turns every one of them away.
describe('token lookup: one read per token for concurrent misses', () => {
  let t: TestApp;
  let ws: string;
  let service: WorkspacesService;
  let repo: WorkspacesRepository;

  beforeAll(async () => {
    t = await TestApp.start();
    ws = await t.newWorkspace();
    service = t.app.get(WorkspacesService);
    repo = t.app.get(WorkspacesRepository);
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => t.close());

  /** findByToken, held until `release` is called, counting its calls. */
  const gatedReads = () => {
    const real = repo.findByToken.bind(repo);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const spy = jest.spyOn(repo, 'findByToken').mockImplementation(async (id) => {
      await gate;
      return real(id);
    });
    return { spy, release };
  };

  it('20 concurrent requests with an uncached token send one read, and all authenticate', async () => {
    const ada: TestUser = await t.newUser(ws, 'member', 'ada-flight');
    const { spy, release } = gatedReads();
    const calls = Array.from({ length: 20 }, () => service.authenticate(ada.token));
    release();
    const callers = await Promise.all(calls);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(callers.map((c) => c?.user.id)).toEqual(Array(20).fill(ada.id));
  });

  it('a revocation heard while the shared read is under way turns every waiting caller away', async () => {
    const bob: TestUser = await t.newUser(ws, 'member', 'bob-flight');
    const { spy, release } = gatedReads();
    const calls = Array.from({ length: 5 }, () => service.authenticate(bob.token));
    const tokenId = (await t.pool.query<{ id: string }>('SELECT id FROM tokens WHERE user_id = $1', [bob.id])).rows[0].id;
    service.forget([tokenId]); // as the bus delivers a revocation made on another node
    release();
    expect(await Promise.all(calls)).toEqual(Array(5).fill(undefined));
    expect(spy).toHaveBeenCalledTimes(1);
    // Still away afterwards: the revoked row was not cached.
    expect(await service.authenticate(bob.token)).toBeUndefined();
  });

  it('a failed read fails its waiters and is not shared with the next caller', async () => {
    const cy: TestUser = await t.newUser(ws, 'member', 'cy-flight');
    const spy = jest.spyOn(repo, 'findByToken').mockRejectedValueOnce(new Error('connection terminated'));
    const failed = await Promise.allSettled([service.authenticate(cy.token), service.authenticate(cy.token)]);
    expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    spy.mockRestore();
    expect((await service.authenticate(cy.token))?.user.id).toBe(cy.id);
  });

  // SlackAuthGuard answers without a promise from the cache (cachedCaller) and asks authenticate otherwise.
  it('cachedCaller answers as authenticate once the row is cached, and nothing for what authenticate would refuse', async () => {
    const di: TestUser = await t.newUser(ws, 'member', 'di-flight');
    expect(service.cachedCaller(di.token)).toBeUndefined(); // not read yet
    const caller = await service.authenticate(di.token);
    expect(caller?.user.id).toBe(di.id);
    expect(service.cachedCaller(di.token)).toEqual(caller);
    // The cached id with another secret, and the token presented as a web session.
    const wrong = di.token.slice(0, -1) + (di.token.endsWith('a') ? 'b' : 'a');
    expect(service.cachedCaller(wrong)).toBeUndefined();
    expect(await service.authenticate(wrong)).toBeUndefined();
    expect(service.cachedCaller(di.token, 'session')).toBeUndefined();
    const tokenId = (await t.pool.query<{ id: string }>('SELECT id FROM tokens WHERE user_id = $1', [di.id])).rows[0].id;
    service.forget([tokenId]);
    expect(service.cachedCaller(di.token)).toBeUndefined();
    expect(await service.authenticate(di.token)).toBeUndefined();
  });
});
