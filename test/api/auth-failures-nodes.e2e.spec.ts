import { startTwoNodes, type TwoNodes } from '../support/nodes.js';
import type { TestApp, TestUser } from '../support/test-app.js';

// Failed authentications are counted in Redis for every node; each node blocks an address itself
// once a failure tells it the shared budget is used up, so good calls never wait on Redis.
describe('failed authentications over two nodes', () => {
  let nodes: TwoNodes;
  let a: TestApp;
  let b: TestApp;
  let ada: TestUser;

  beforeAll(async () => {
    const env = { JOBS_DISPATCHER_ENABLED: 'false', PROJECTOR_ENABLED: 'false', AUTH_FAILURES_PER_MINUTE: '3' };
    ({ n1: a, n2: b } = nodes = await startTwoNodes(env));
    ada = await a.newUser(await a.newWorkspace());
  });
  afterAll(() => nodes?.close());

  it('failures on both nodes draw from one budget; a node blocks the address from its first failure past it', async () => {
    const bad = (i: number) => `xoxp-1-000000000000000${i}`;
    // 2 failures on a, 1 on b: the shared budget of 3 is used up by b's.
    for (let i = 0; i < 2; i++) expect((await a.api('auth.test', bad(i))).body.error).toBe('invalid_auth');
    expect((await a.api('auth.test', ada.token)).body).toMatchObject({ ok: true, user_id: ada.id });
    expect((await b.api('auth.test', bad(2))).body.error).toBe('invalid_auth');
    // b answered the failure that used the budget up: from now on it refuses the address, good token too.
    const onB = await b.api('auth.test', ada.token);
    expect([onB.status, onB.body.error]).toEqual([429, 'ratelimited']);
    expect(Number(onB.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // a has not heard of it yet: its next failure (counted past the budget) tells it.
    expect((await a.api('auth.test', ada.token)).body.ok).toBe(true);
    expect((await a.api('auth.test', bad(3))).body.error).toBe('invalid_auth');
    const onA = await a.api('auth.test', ada.token);
    expect([onA.status, onA.body.error]).toEqual([429, 'ratelimited']);
  });
});
