import { hasLink, highlight, searchWords, tsvectorLiteral } from './search-words.js';

describe('search words', () => {
  it('unwraps Slack markup, folds case and accents, splits on punctuation', () => {
    expect(searchWords('Crème BRÛLÉE, <https://x.org/a|the Docs> <@U12> e-mail snake_case')).toEqual([
      'creme',
      'brulee',
      'https',
      'x',
      'org',
      'a',
      'the',
      'docs',
      'u12',
      'e',
      'mail',
      'snake_case',
    ]);
    expect(searchWords(`${'x'.repeat(65)} ok`)).toEqual(['ok']);
  });

  it('makes a tsvector literal with positions, mapped through the lexeme function', () => {
    expect(tsvectorLiteral(['a', 'b', 'a'])).toBe("'a':1,3 'b':2");
    expect(tsvectorLiteral(['a', 'b', 'a'], (w) => `h${w}`)).toBe("'ha':1,3 'hb':2");
  });

  it('highlights the words that match, as written', () => {
    expect(highlight('The Café is open', new Set(['cafe', 'open']))).toBe('The \ue000Café\ue001 is \ue000open\ue001');
    expect(highlight('nothing here', new Set())).toBe('nothing here');
  });

  it('sees links in markup and bare', () => {
    expect(hasLink('see <https://x.org>')).toBe(true);
    expect(hasLink('see http://x.org/y')).toBe(true);
    expect(hasLink('no link: https:// alone')).toBe(false);
  });
});
