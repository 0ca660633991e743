import { TestApp, type TestUser } from '../support/test-app.js';

// Issue 14 item 4: an analyst on /api reads what members may read and writes nothing.
describe('analysts are read-only on /api', () => {
  let t: TestApp;
  let admin: TestUser;
  let analyst: TestUser;
  let channel: string;
  let ts: string;

  beforeAll(async () => {
    t = await TestApp.start();
    const ws = await t.newWorkspace();
    admin = await t.newUser(ws, 'admin');
    analyst = await t.newUser(ws, 'analyst');
    channel = await t.newChannel(admin, 'general', false, [analyst]);
    ts = (await t.api('chat.postMessage', admin.token, { channel, text: 'hello' })).body.ts;
  });
  afterAll(() => t.close());

  it('reads history, info and members of a channel it is in', async () => {
    const history = await t.api('conversations.history', analyst.token, { channel });
    expect(history.body).toMatchObject({ ok: true, messages: [{ text: 'hello' }] });
    expect((await t.api('conversations.info', analyst.token, { channel })).body.ok).toBe(true);
    expect((await t.api('conversations.members', analyst.token, { channel })).body.ok).toBe(true);
  });

  it.each([
    ['chat.postMessage', () => ({ channel, text: 'analysis' })],
    ['chat.update', () => ({ channel, ts, text: 'changed' })],
    ['chat.delete', () => ({ channel, ts })],
    ['reactions.add', () => ({ channel, timestamp: ts, name: 'eyes' })],
    ['pins.add', () => ({ channel, timestamp: ts })],
    ['conversations.leave', () => ({ channel })],
    ['conversations.invite', () => ({ channel, users: admin.id })],
    ['conversations.kick', () => ({ channel, user: admin.id })],
    ['conversations.archive', () => ({ channel })],
    ['conversations.rename', () => ({ channel, name: 'renamed' })],
    ['conversations.setTopic', () => ({ channel, topic: 'mine now' })],
    ['conversations.create', () => ({ name: 'analysts-own' })],
    ['conversations.open', () => ({ users: admin.id })],
  ])('%s is refused with restricted_action and writes nothing', async (method, args) => {
    const before = await t.tableCounts();
    expect((await t.api(method, analyst.token, args())).body).toEqual(expect.objectContaining({ ok: false, error: 'restricted_action' }));
    expect(await t.tableCounts()).toEqual(before);
  });

  it('cannot join another channel either', async () => {
    const other = await t.newChannel(admin, 'other');
    expect((await t.api('conversations.join', analyst.token, { channel: other })).body).toMatchObject({
      ok: false,
      error: 'restricted_action',
    });
  });
});
