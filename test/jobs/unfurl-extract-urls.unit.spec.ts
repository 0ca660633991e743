import { extractUrls } from '../../src/jobs/unfurl/extract-urls.js';

describe('unfurl URL extraction', () => {
  it('finds Slack markup links, with and without a label, and bare URLs, in order', () => {
    expect(extractUrls('see <https://a.example/x|the doc> and <http://b.example/y> or https://c.example/z')).toEqual([
      'https://a.example/x',
      'http://b.example/y',
      'https://c.example/z',
    ]);
  });

  it('keeps at most the first N distinct URLs', () => {
    const text = 'https://a.example https://a.example/ https://b.example https://c.example https://d.example';
    expect(extractUrls(text)).toEqual(['https://a.example/', 'https://b.example/', 'https://c.example/']);
    expect(extractUrls(text, 1)).toEqual(['https://a.example/']);
  });

  it('trims sentence punctuation but keeps a balanced closing paren', () => {
    expect(extractUrls('read https://a.example/page.')).toEqual(['https://a.example/page']);
    expect(extractUrls('(see https://a.example/b), then')).toEqual(['https://a.example/b']);
    expect(extractUrls('https://en.wikipedia.org/wiki/Foo_(bar)!')).toEqual(['https://en.wikipedia.org/wiki/Foo_(bar)']);
  });

  it("unescapes Slack's &amp; and drops fragments", () => {
    expect(extractUrls('<https://a.example/?q=1&amp;r=2#top>')).toEqual(['https://a.example/?q=1&r=2']);
  });

  it('skips malformed URLs, other schemes, credentials and mentions', () => {
    const text = [
      'http://[::1',
      'https://:80/',
      'http://%%/x',
      'https://exa mple.com',
      'https://x.example:99999/',
      'http://999.1.1.1/',
      '<mailto:a@b.example|mail>',
      '<ftp://files.example/f>',
      '<@U123>',
      '<!channel>',
      'https://user:pw@a.example/',
      `https://a.example/${'x'.repeat(2100)}`,
      'javascript:alert(1)',
    ].join(' ');
    // "https://exa" is a syntactically valid URL (fetching it fails at DNS); everything else is skipped.
    expect(extractUrls(text)).toEqual(['https://exa/']);
    expect(extractUrls('<https://[oops|label> and <http://>')).toEqual([]);
  });
});
