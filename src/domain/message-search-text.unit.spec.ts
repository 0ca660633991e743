import { messageSearchText } from './message-search-text.js';

describe('messageSearchText', () => {
  it('is the text alone for a plain message', () => {
    expect(messageSearchText({ text: 'hello world' })).toBe('hello world');
  });

  it('collects the shown text of blocks and attachments, each piece once, and not the values apps keep in them', () => {
    const text = messageSearchText({
      text: 'Deploy',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Release 7' } },
        { type: 'section', text: { type: 'mrkdwn', text: '*api* rolled out' }, fields: [{ type: 'mrkdwn', text: 'Region eu' }] },
        {
          type: 'context',
          elements: [
            { type: 'image', image_url: 'https://x/y.png', alt_text: 'logo' },
            { type: 'plain_text', text: 'by ci' },
          ],
        },
        { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Approve' }, value: 'secret-value' }] },
        { type: 'divider' },
        {
          type: 'rich_text',
          elements: [
            {
              type: 'rich_text_section',
              elements: [
                { type: 'text', text: 'see ' },
                { type: 'link', url: 'https://d', text: 'docs' },
                { type: 'user', user_id: 'U1' },
              ],
            },
          ],
        },
      ],
      attachments: [
        { fallback: 'Build passed', title: 'Build passed', text: 'all green', fields: [{ title: 'Branch', value: 'main' }] },
        { blocks: [{ type: 'section', text: { type: 'plain_text', text: 'nested' } }] },
      ],
    });
    expect(text.split('\n')).toEqual([
      'Deploy',
      'Release 7',
      '*api* rolled out',
      'Region eu',
      'logo',
      'by ci',
      'Approve',
      'see docs',
      'Build passed',
      'all green',
      'Branch',
      'main',
      'nested',
    ]);
    expect(text).not.toContain('secret-value'); // a button's value is the app's, not words a person sees
  });

  it('tolerates what it does not know', () => {
    expect(messageSearchText({ text: null, blocks: [{ type: 'video' } as never], attachments: [null as never] })).toBe('');
  });
});
