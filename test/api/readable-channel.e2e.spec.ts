import { readableChannel } from '../../src/api/channels.repository.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// The one SQL rule for which channels a caller may read (search.messages, files.list and the file
// search, reactions.list): public ones of their workspace, archived too, and private ones and DMs
// while they are members; nothing of another workspace.
describe('readableChannel', () => {
  let t: TestApp;
  let ada: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await TestApp.start();
    const ws = await t.newWorkspace();
    ada = await t.newUser(ws);
    bob = await t.newUser(ws);
  });
  afterAll(() => t.close());

  const readable = async (user: TestUser) => {
    const { rows } = await t.pool.query<{ id: string }>(`SELECT c.id FROM channels c WHERE ${readableChannel('c', '$1', '$2')}`, [
      user.workspace,
      user.id,
    ]);
    return new Set(rows.map((r) => r.id));
  };

  it('public and archived channels, private ones and DMs of members only, not after leaving, nothing of another workspace', async () => {
    const open = await t.newChannel(bob, 'open');
    const archived = await t.newChannel(bob, 'archived');
    expect((await t.api('conversations.archive', bob.token, { channel: archived })).body.ok).toBe(true);
    const mine = await t.newChannel(ada, 'mine', true);
    const theirs = await t.newChannel(bob, 'theirs', true);
    const left = await t.newChannel(bob, 'left', true, [ada]);
    expect((await t.api('conversations.leave', ada.token, { channel: left })).body.ok).toBe(true);
    const dm = (await t.api('conversations.open', ada.token, { users: bob.id })).body.channel.id as string;
    const carol = await t.newUser(ada.workspace);
    const othersDm = (await t.api('conversations.open', bob.token, { users: carol.id })).body.channel.id as string;
    const elsewhere = await t.newUser(await t.newWorkspace('Other'));
    const foreign = await t.newChannel(elsewhere, 'foreign');

    const forAda = await readable(ada);
    for (const id of [open, archived, mine, dm]) expect(forAda).toContain(id);
    for (const id of [theirs, left, othersDm, foreign]) expect(forAda).not.toContain(id);
    expect(await readable(elsewhere)).toEqual(new Set([foreign]));
  });
});
