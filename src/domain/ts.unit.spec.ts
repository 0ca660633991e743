import { formatTs, parseTs } from './ts.js';

describe('Slack ts', () => {
  it.each([
    ['1795688916889006', '1795688916.889006'],
    ['5', '0.000005'],
    ['1000000', '1.000000'],
  ])('formats %s micros as %s', (micros, ts) => expect(formatTs(micros)).toBe(ts));

  it.each([
    ['1795688916.889006', 1795688916889006n],
    ['1795688916.8', 1795688916800000n],
    ['1795688916', 1795688916000000n],
    ['0', 0n],
  ])('parses %s', (ts, micros) => expect(parseTs(ts)).toBe(micros));

  it.each(['', 'abc', '1.2.3', '-1', '1.1234567', ' 1', '1e5'])('rejects %j', (ts) => expect(parseTs(ts)).toBeUndefined());
});
