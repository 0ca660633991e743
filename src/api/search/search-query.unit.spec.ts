import { dateRange, parseSearchQuery, tsqueryLiteral } from './search-query.js';

const us = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

describe('parseSearchQuery', () => {
  it('reads words, phrases and exclusions', () => {
    const q = parseSearchQuery('Deploy "Green Light" -staging -"old box" don\'t');
    expect(q.words).toEqual(['deploy']);
    expect(q.phrases).toEqual([
      ['green', 'light'],
      ['don', 't'],
    ]);
    expect(q.excluded).toEqual([['staging'], ['old', 'box']]);
    expect(tsqueryLiteral(q)).toBe("'deploy' & ('green' <-> 'light') & ('don' <-> 't') & !'staging' & !('old' <-> 'box')");
  });

  it('reads every modifier', () => {
    const q = parseSearchQuery('in:#general in:<#C9|x> in:@bob from:<@U7> from:me has:link has:pin has:reaction word');
    expect(q.inChannels).toEqual(['general', 'C9']);
    expect(q.inUsers).toEqual(['bob']);
    expect(q.fromUsers).toEqual(['U7', 'me']);
    expect([...q.has].sort()).toEqual(['link', 'pin', 'reaction']);
    expect(q.words).toEqual(['word']);
  });

  it('reads dates as UTC days, months and years', () => {
    expect(parseSearchQuery('before:2026-03-02')).toMatchObject({ after: 0n, before: us('2026-03-02T00:00:00Z') });
    expect(parseSearchQuery('after:2026-03-02').after).toBe(us('2026-03-03T00:00:00Z'));
    expect(parseSearchQuery('on:2026-03-02')).toMatchObject({ after: us('2026-03-02T00:00:00Z'), before: us('2026-03-03T00:00:00Z') });
    expect(parseSearchQuery('during:2026-02')).toMatchObject({ after: us('2026-02-01T00:00:00Z'), before: us('2026-03-01T00:00:00Z') });
    expect(parseSearchQuery('during:2025')).toMatchObject({ after: us('2025-01-01T00:00:00Z'), before: us('2026-01-01T00:00:00Z') });
    const both = parseSearchQuery('after:2026-01-01 before:2026-01-05');
    expect(both).toMatchObject({ after: us('2026-01-02T00:00:00Z'), before: us('2026-01-05T00:00:00Z') });
    expect(dateRange('2026-02-30')).toBeUndefined();
  });

  it('searches what is no modifier as text', () => {
    const q = parseSearchQuery('has:cats on:someday ratio:2');
    expect(q.has.size).toBe(0);
    expect(q.after).toBeUndefined();
    expect(q.phrases).toEqual([
      ['has', 'cats'],
      ['on', 'someday'],
      ['ratio', '2'],
    ]);
  });

  it('has no word condition for modifiers alone', () => {
    expect(tsqueryLiteral(parseSearchQuery('from:@ann in:#x'))).toBeUndefined();
  });
});
