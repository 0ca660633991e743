import { parseHint } from './fanout-hint.js';

describe('parseHint', () => {
  it('reads channel:seq pairs and ignores malformed parts', () => {
    expect(parseHint('C1:5,C22:9,bad,C3:x,:4')).toEqual([
      { channel: 'C1', seq: 5 },
      { channel: 'C22', seq: 9 },
    ]);
  });
});
