import type { Block } from './block-kit.js';
import type { LegacyAttachment } from './message-content.js';

/** The parts of a message that hold words a person could search for. */
export interface SearchableMessage {
  text?: string | null;
  blocks?: readonly Block[] | null;
  attachments?: readonly LegacyAttachment[] | null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const textOf = (t: unknown): string | undefined => (isObj(t) ? str(t.text) : undefined);

/** The words of rich text: its text runs and link labels (mentions and emoji are not words). */
function richText(elements: unknown, out: string[]): void {
  if (!Array.isArray(elements)) return;
  const line: string[] = [];
  for (const e of elements) {
    if (!isObj(e)) continue;
    if (e.type === 'text') line.push(str(e.text) ?? '');
    else if (e.type === 'link') line.push(str(e.text) ?? str(e.url) ?? '');
    else if (Array.isArray(e.elements)) richText(e.elements, out);
  }
  const joined = line.join('').trim();
  if (joined) out.push(joined);
}

function blockText(blocks: unknown, out: string[]): void {
  if (!Array.isArray(blocks)) return;
  for (const b of blocks) {
    if (!isObj(b)) continue;
    switch (b.type) {
      case 'section':
        out.push(textOf(b.text) ?? '');
        if (Array.isArray(b.fields)) for (const f of b.fields) out.push(textOf(f) ?? '');
        if (isObj(b.accessory)) out.push(textOf(b.accessory.text) ?? str(b.accessory.alt_text) ?? '');
        break;
      case 'header':
        out.push(textOf(b.text) ?? '');
        break;
      case 'context':
        if (Array.isArray(b.elements)) for (const e of b.elements) out.push(textOf(e) ?? (isObj(e) ? (str(e.alt_text) ?? '') : ''));
        break;
      case 'image':
        out.push(textOf(b.title) ?? '', str(b.alt_text) ?? '');
        break;
      case 'actions':
        if (Array.isArray(b.elements)) for (const e of b.elements) if (isObj(e)) out.push(textOf(e.text) ?? '');
        break;
      case 'rich_text':
        richText(b.elements, out);
        break;
      case 'markdown':
        out.push(str(b.text) ?? '');
        break;
    }
  }
}

/**
 * The searchable text of a message, one piece a line: its text, the words of its blocks (sections,
 * fields, headers, context, image titles and alt text, button labels, rich text, markdown) and of its
 * legacy attachments (pretext, title, text, fallback, fields, their blocks). Pure: the search index
 * and anything else that must read a message's words (mentions in blocks, say) call it.
 */
export function messageSearchText(message: SearchableMessage): string {
  const out: string[] = [message.text ?? ''];
  blockText(message.blocks, out);
  for (const a of message.attachments ?? []) {
    if (!isObj(a)) continue;
    for (const key of ['pretext', 'author_name', 'title', 'text', 'fallback', 'footer']) out.push(str(a[key]) ?? '');
    if (Array.isArray(a.fields)) for (const f of a.fields) if (isObj(f)) out.push(str(f.title) ?? '', str(f.value) ?? '');
    blockText(a.blocks, out);
  }
  // The fallback often repeats the title or text: each piece once.
  return [...new Set(out.map((s) => s.trim()).filter(Boolean))].join('\n');
}
