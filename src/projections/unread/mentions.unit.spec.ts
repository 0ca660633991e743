import { parseMentions } from './mentions.js';

describe('parseMentions', () => {
  it.each([
    ['no markup @U123 here', { users: [], channel: false, here: false }],
    ['hi <@U0AB> and <@U0CD|ada> and <@U0AB> again', { users: ['U0AB', 'U0CD'], channel: false, here: false }],
    ['<!channel> deploy', { users: [], channel: true, here: false }],
    ['<!everyone|everyone> deploy', { users: [], channel: true, here: false }],
    ['<!here> anyone?', { users: [], channel: false, here: true }],
    ['<!subteam^S123> is not a broadcast', { users: [], channel: false, here: false }],
    ['<@W9> <!here|@here>', { users: ['W9'], channel: false, here: true }],
  ])('%s', (text, expected) => {
    expect(parseMentions(text)).toEqual(expected);
  });

  it('an empty or missing text mentions nobody', () => {
    expect(parseMentions('')).toEqual({ users: [], channel: false, here: false });
    expect(parseMentions(undefined)).toEqual({ users: [], channel: false, here: false });
  });
});
