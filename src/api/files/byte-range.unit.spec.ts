import { sniffImage } from '../../jobs/files/sniff.js';
import { contentDisposition, parseRange } from './byte-range.js';

describe('Range headers', () => {
  it.each([
    [undefined, undefined],
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=90-', { start: 90, end: 99 }],
    ['bytes=90-1000', { start: 90, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=-1000', { start: 0, end: 99 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=5-1', undefined], // invalid: the whole file
    ['bytes=0-1,5-9', undefined], // several ranges: the whole file
    ['items=0-9', undefined],
    ['bytes=-', undefined],
  ])('%s of 100 bytes -> %j', (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });

  it('names files safely in Content-Disposition', () => {
    expect(contentDisposition('attachment', 'résumé "final".pdf')).toBe(
      `attachment; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`,
    );
  });
});

describe('image sniffing looks at the bytes, not the name', () => {
  it.each([
    [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'png'],
    [Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), 'jpeg'],
    [Buffer.from('GIF89a......'), 'gif'],
    [Buffer.from('RIFF\x00\x00\x00\x00WEBP'), 'webp'],
    [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">'), null],
    [Buffer.from('<html><script>'), null],
    [Buffer.from([0x89, 0x50]), null],
  ])('%j -> %s', (head, type) => {
    expect(sniffImage(head)).toBe(type);
  });
});
