import { TestApp } from '../support/test-app.js';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => (t = await TestApp.start()));
  afterAll(() => t.close());

  it('posts and reads back a message', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const channel = await t.newChannel(ada, 'general');
    const posted = await t.api('chat.postMessage', ada.token, { channel, text: 'hello' });
    expect(posted.body).toMatchObject({ ok: true, channel, seq: 3 });
    const history = await t.api('conversations.history', ada.token, { channel });
    expect(history.body.messages).toEqual([{ type: 'message', user: ada.id, text: 'hello', ts: posted.body.ts }]);
  });
});
