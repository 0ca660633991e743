import { blocksProblem, MAX_BLOCKS } from './block-kit.js';
import { attachmentsProblem, hasContent, packBody, unpackBody } from './message-content.js';

const text = (t: string, type = 'mrkdwn') => ({ type, text: t });
const button = (label: string, extra: Record<string, unknown> = {}) => ({ type: 'button', text: text(label, 'plain_text'), ...extra });

describe('Block Kit checks', () => {
  it.each([
    ['a section with text', [{ type: 'section', text: text('hi') }]],
    [
      'a section with fields and a button',
      [{ type: 'section', fields: [text('a'), text('b')], accessory: button('Go', { action_id: 'go' }) }],
    ],
    [
      'context with an image and text',
      [{ type: 'context', elements: [{ type: 'image', image_url: 'https://x/y.png', alt_text: 'y' }, text('t')] }],
    ],
    ['a divider and a header', [{ type: 'divider' }, { type: 'header', text: text('Title', 'plain_text') }]],
    ['an image with a title', [{ type: 'image', image_url: 'https://x/y.png', alt_text: 'y', title: text('t', 'plain_text') }]],
    [
      'actions with a select and buttons',
      [{ type: 'actions', elements: [button('A', { style: 'primary' }), { type: 'static_select', action_id: 's' }] }],
    ],
    ['an emoji counted as one character', [{ type: 'header', text: text('🚀'.repeat(150), 'plain_text') }]],
    ['exactly 50 blocks', Array.from({ length: MAX_BLOCKS }, () => ({ type: 'divider' }))],
    ['no blocks', []],
  ])('accepts %s', (_, blocks) => {
    expect(blocksProblem(blocks)).toBeUndefined();
  });

  it.each([
    ['not an array', { type: 'divider' }, '', 'must provide an array'],
    ['a block that is not an object', ['divider'], '/0', 'must provide an object'],
    ['a block without a type', [{ text: text('x') }], '/0/type', 'missing required field: type'],
    ['an unknown field', [{ type: 'divider', colour: 'red' }], '/0/colour', 'unsupported field: colour'],
    [
      'a header of 151 characters',
      [{ type: 'header', text: text('x'.repeat(151), 'plain_text') }],
      '/0/text/text',
      'must be less than 151 characters',
    ],
    [
      'a field of 2,001 characters',
      [{ type: 'section', fields: [text('x'.repeat(2001))] }],
      '/0/fields/0/text',
      'must be less than 2001 characters',
    ],
    [
      'a button style',
      [{ type: 'actions', elements: [button('A', { style: 'green' })] }],
      '/0/elements/0/style',
      'must be one of: primary, danger',
    ],
    [
      'a button value of 2,001',
      [{ type: 'actions', elements: [button('A', { value: 'v'.repeat(2001) })] }],
      '/0/elements/0/value',
      'must be less than 2001 characters',
    ],
    [
      'an image in actions',
      [{ type: 'actions', elements: [{ type: 'image', image_url: 'https://x', alt_text: 'x' }] }],
      '/0/elements/0/type',
      'unsupported element type: image',
    ],
    [
      '26 actions',
      [{ type: 'actions', elements: Array.from({ length: 26 }, () => button('A')) }],
      '/0/elements',
      'no more than 25 items allowed',
    ],
    ['a context without elements', [{ type: 'context', elements: [] }], '/0/elements', 'must provide at least 1 item'],
    ['a block_id of 256', [{ type: 'divider', block_id: 'b'.repeat(256) }], '/0/block_id', 'must be less than 256 characters'],
    [
      'a rich text list without style',
      [{ type: 'rich_text', elements: [{ type: 'rich_text_list', elements: [] }] }],
      '/0/elements/0/style',
      'must be one of: bullet, ordered',
    ],
    [
      'a rich text run that is not text',
      [{ type: 'rich_text', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 5 }] }] }],
      '/0/elements/0/elements/0/text',
      'must be a string',
    ],
  ])('refuses %s', (_, blocks, pointer, message) => {
    expect(blocksProblem(blocks)).toEqual({ pointer: `/blocks${pointer}`, message });
  });

  it('checks attachments and the blocks inside them', () => {
    expect(attachmentsProblem([{ title: 'ok', fields: [{ title: 'a', value: 'b', short: true }] }])).toBeUndefined();
    expect(attachmentsProblem([{ title: 1 }])).toEqual({ pointer: '/attachments/0/title', message: 'must be a string' });
    expect(attachmentsProblem([{ blocks: [{ type: 'nope' }] }])).toEqual({
      pointer: '/attachments/0/blocks/0/type',
      message: 'unsupported block type: nope',
    });
  });

  it('knows when a message shows nothing', () => {
    expect(hasContent('', undefined)).toBe(false);
    expect(hasContent('', { attachments: [{ color: 'good' }] })).toBe(false);
    expect(hasContent('', { attachments: [{ fallback: 'x' }] })).toBe(true);
    expect(hasContent('', { blocks: [{ type: 'divider' }] })).toBe(true);
    expect(hasContent(' ', undefined)).toBe(true);
  });

  it('packs a sealed body that opens to the same text and content; plain text stays as it was', () => {
    const rich = { blocks: [{ type: 'divider' }], subtype: 'me_message' as const };
    expect(unpackBody(packBody('hi', rich))).toEqual({ text: 'hi', rich });
    expect(packBody('hi', undefined)).toBe('hi');
    expect(unpackBody('{"text":"looks like json"}')).toEqual({ text: '{"text":"looks like json"}' });
  });
});
