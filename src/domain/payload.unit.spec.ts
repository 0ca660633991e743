import { holdsNul } from './payload.js';

describe('holdsNul', () => {
  it('finds a NUL in a string, a key or a value at any depth', () => {
    expect(holdsNul('a\u0000b')).toBe(true);
    expect(holdsNul({ ['k\u0000']: 1 })).toBe(true);
    expect(holdsNul([{ a: [{ b: 'x\u0000' }] }])).toBe(true);
    expect(holdsNul({ a: ['x', { b: 'y' }], c: 1, d: null })).toBe(false);
  });

  it('looks no deeper than `depth` levels of objects below the value', () => {
    // As /api arguments and socket payloads are checked (depth 4): strings of the fifth level are
    // read, objects there are not.
    const nested = (levels: number, leaf: unknown): unknown => (levels === 0 ? leaf : { a: nested(levels - 1, leaf) });
    expect(holdsNul(nested(5, '\u0000'), 4)).toBe(true);
    expect(holdsNul(nested(5, { b: '\u0000' }), 4)).toBe(false);
    expect(holdsNul(nested(5, { b: '\u0000' }))).toBe(true);
  });
});
