// Block Kit (https://api.slack.com/reference/block-kit) as a message carries it: which blocks,
// elements and composition objects a message may hold, with Slack's limits. Pure: a validator
// returns the first problem with its JSON pointer, as Slack's `invalid_blocks` names it.

/** One block of a message, stored and returned as the poster sent it. */
export type Block = Record<string, unknown> & { type: string; block_id?: string };

/** Where a block or attachment is wrong: `pointer` is an RFC 6901 JSON pointer from the message root. */
export interface BlockKitProblem {
  pointer: string;
  message: string;
}

export const MAX_BLOCKS = 50;

/** Thrown inside the walk, caught at its top: the first problem wins, as in Slack's answer. */
class Invalid {
  constructor(readonly problem: BlockKitProblem) {}
}

type Obj = Record<string, unknown>;

export function fail(pointer: string, message: string): never {
  throw new Invalid({ pointer, message });
}

/** Runs a walk that calls fail(); returns its first problem, or undefined when there was none. */
export function firstProblem(walk: () => void): BlockKitProblem | undefined {
  try {
    walk();
    return undefined;
  } catch (err) {
    if (err instanceof Invalid) return err.problem;
    throw err;
  }
}

export const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Characters as Slack counts them (code points: an emoji is one). */
const length = (s: string) => (s.length < 2 ? s.length : [...s].length);

export function object(v: unknown, p: string): Obj {
  if (!isObject(v)) fail(p, 'must provide an object');
  return v;
}

export function array(v: unknown, p: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v)) fail(p, 'must provide an array');
  if (v.length < min) fail(p, `must provide at least ${min} item${min === 1 ? '' : 's'}`);
  if (v.length > max) fail(p, `no more than ${max} items allowed`);
  return v;
}

/** A string property: required unless `optional`; 1..max characters. */
export function string(o: Obj, key: string, p: string, max: number, optional = false): string | undefined {
  const v = o[key];
  if (v === undefined && optional) return undefined;
  if (v === undefined) fail(p, `missing required field: ${key}`);
  if (typeof v !== 'string') fail(`${p}/${key}`, 'must be a string');
  if (v.length === 0) fail(`${p}/${key}`, 'must be more than 0 characters');
  if (length(v) > max) fail(`${p}/${key}`, `must be less than ${max + 1} characters`);
  return v;
}

function boolean(o: Obj, key: string, p: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'boolean') fail(`${p}/${key}`, 'must be a boolean');
}

function only(o: Obj, p: string, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) if (!allowed.includes(key)) fail(`${p}/${key}`, `unsupported field: ${key}`);
}

function oneOf(o: Obj, key: string, p: string, values: readonly string[], optional = true): void {
  const v = o[key];
  if (v === undefined && optional) return;
  if (typeof v !== 'string' || !values.includes(v)) fail(`${p}/${key}`, `must be one of: ${values.join(', ')}`);
}

/** A text composition object: plain_text or mrkdwn (or plain_text only). */
function text(v: unknown, p: string, max: number, plainOnly = false): void {
  const o = object(v, p);
  oneOf(o, 'type', p, plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'], false);
  if (o.type === 'plain_text') only(o, p, ['type', 'text', 'emoji']);
  else only(o, p, ['type', 'text', 'verbatim']);
  string(o, 'text', p, max);
  boolean(o, 'emoji', p);
  boolean(o, 'verbatim', p);
}

function confirm(v: unknown, p: string): void {
  const o = object(v, p);
  only(o, p, ['title', 'text', 'confirm', 'deny', 'style']);
  text(o.title, `${p}/title`, 100, true);
  text(o.text, `${p}/text`, 300);
  text(o.confirm, `${p}/confirm`, 30, true);
  text(o.deny, `${p}/deny`, 30, true);
  oneOf(o, 'style', p, ['primary', 'danger']);
}

function button(o: Obj, p: string): void {
  only(o, p, ['type', 'text', 'action_id', 'url', 'value', 'style', 'confirm', 'accessibility_label']);
  text(o.text, `${p}/text`, 75, true);
  string(o, 'action_id', p, 255, true);
  string(o, 'url', p, 3000, true);
  string(o, 'value', p, 2000, true);
  oneOf(o, 'style', p, ['primary', 'danger']);
  if (o.confirm !== undefined) confirm(o.confirm, `${p}/confirm`);
  string(o, 'accessibility_label', p, 75, true);
}

function imageElement(o: Obj, p: string): void {
  only(o, p, ['type', 'image_url', 'slack_file', 'alt_text']);
  if (o.slack_file === undefined) string(o, 'image_url', p, 3000);
  else object(o.slack_file, `${p}/slack_file`);
  string(o, 'alt_text', p, 2000);
}

/**
 * Interactive elements other than buttons: accepted with their common fields checked (the web
 * client shows them as a note; their options are the app's business). Buttons are checked in full.
 */
const OTHER_INTERACTIVE = [
  'static_select',
  'external_select',
  'users_select',
  'conversations_select',
  'channels_select',
  'multi_static_select',
  'multi_external_select',
  'multi_users_select',
  'multi_conversations_select',
  'multi_channels_select',
  'overflow',
  'datepicker',
  'timepicker',
  'datetimepicker',
  'checkboxes',
  'radio_buttons',
  'workflow_button',
] as const;

function element(v: unknown, p: string, allowImage: boolean): void {
  const o = object(v, p);
  if (o.type === 'button') return button(o, p);
  if (o.type === 'image' && allowImage) return imageElement(o, p);
  if (typeof o.type === 'string' && (OTHER_INTERACTIVE as readonly string[]).includes(o.type)) {
    string(o, 'action_id', p, 255, true);
    if (o.confirm !== undefined) confirm(o.confirm, `${p}/confirm`);
    return;
  }
  fail(`${p}/type`, o.type === undefined ? 'missing required field: type' : `unsupported element type: ${String(o.type)}`);
}

const RICH_STYLES = ['bold', 'italic', 'strike', 'code', 'underline', 'highlight', 'client_highlight', 'unlink'];

function richStyle(o: Obj, p: string): void {
  if (o.style === undefined) return;
  const style = object(o.style, `${p}/style`);
  for (const [k, v] of Object.entries(style)) {
    if (!RICH_STYLES.includes(k)) fail(`${p}/style/${k}`, `unsupported field: ${k}`);
    if (typeof v !== 'boolean') fail(`${p}/style/${k}`, 'must be a boolean');
  }
}

/** The inline pieces of rich text: text, links, emoji, mentions, dates. */
function richInline(v: unknown, p: string): void {
  const o = object(v, p);
  switch (o.type) {
    case 'text':
      if (typeof o.text !== 'string') fail(`${p}/text`, 'must be a string');
      if (length(o.text) > 40_000) fail(`${p}/text`, 'must be less than 40001 characters');
      return richStyle(o, p);
    case 'link':
      string(o, 'url', p, 3000);
      if (o.text !== undefined && typeof o.text !== 'string') fail(`${p}/text`, 'must be a string');
      return richStyle(o, p);
    case 'emoji':
      string(o, 'name', p, 100);
      return;
    case 'user':
      string(o, 'user_id', p, 64);
      return richStyle(o, p);
    case 'channel':
      string(o, 'channel_id', p, 64);
      return richStyle(o, p);
    case 'usergroup':
      string(o, 'usergroup_id', p, 64);
      return richStyle(o, p);
    case 'broadcast':
      return oneOf(o, 'range', p, ['here', 'channel', 'everyone'], false);
    case 'date':
      if (typeof o.timestamp !== 'number') fail(`${p}/timestamp`, 'must be a number');
      string(o, 'format', p, 500);
      return;
    case 'color':
      string(o, 'value', p, 32);
      return;
    default:
      fail(`${p}/type`, `unsupported rich text element type: ${String(o.type)}`);
  }
}

function richInlines(v: unknown, p: string): void {
  const items = array(v, p, 0, 1000);
  items.forEach((item, i) => richInline(item, `${p}/${i}`));
}

function richSection(v: unknown, p: string): void {
  const o = object(v, p);
  switch (o.type) {
    case 'rich_text_section':
      return richInlines(o.elements, `${p}/elements`);
    case 'rich_text_preformatted':
    case 'rich_text_quote':
      return richInlines(o.elements, `${p}/elements`);
    case 'rich_text_list': {
      oneOf(o, 'style', p, ['bullet', 'ordered'], false);
      const items = array(o.elements, `${p}/elements`, 1, 1000);
      items.forEach((item, i) => {
        const section = object(item, `${p}/elements/${i}`);
        if (section.type !== 'rich_text_section') fail(`${p}/elements/${i}/type`, 'must be rich_text_section');
        richInlines(section.elements, `${p}/elements/${i}/elements`);
      });
      return;
    }
    default:
      fail(`${p}/type`, `unsupported rich text type: ${String(o.type)}`);
  }
}

function block(v: unknown, p: string): string | undefined {
  const o = object(v, p);
  const blockId = string(o, 'block_id', p, 255, true);
  switch (o.type) {
    case 'section': {
      only(o, p, ['type', 'block_id', 'text', 'fields', 'accessory', 'expand']);
      if (o.text === undefined && o.fields === undefined) fail(p, 'must provide text or fields');
      if (o.text !== undefined) text(o.text, `${p}/text`, 3000);
      if (o.fields !== undefined) array(o.fields, `${p}/fields`, 1, 10).forEach((f, i) => text(f, `${p}/fields/${i}`, 2000));
      if (o.accessory !== undefined) element(o.accessory, `${p}/accessory`, true);
      boolean(o, 'expand', p);
      break;
    }
    case 'context': {
      only(o, p, ['type', 'block_id', 'elements']);
      array(o.elements, `${p}/elements`, 1, 10).forEach((e, i) => {
        const item = object(e, `${p}/elements/${i}`);
        if (item.type === 'image') imageElement(item, `${p}/elements/${i}`);
        else text(item, `${p}/elements/${i}`, 3000);
      });
      break;
    }
    case 'divider':
      only(o, p, ['type', 'block_id']);
      break;
    case 'image':
      only(o, p, ['type', 'block_id', 'image_url', 'slack_file', 'alt_text', 'title']);
      if (o.slack_file === undefined) string(o, 'image_url', p, 3000);
      else object(o.slack_file, `${p}/slack_file`);
      string(o, 'alt_text', p, 2000);
      if (o.title !== undefined) text(o.title, `${p}/title`, 2000, true);
      break;
    case 'header':
      only(o, p, ['type', 'block_id', 'text']);
      text(o.text, `${p}/text`, 150, true);
      break;
    case 'actions':
      only(o, p, ['type', 'block_id', 'elements']);
      array(o.elements, `${p}/elements`, 1, 25).forEach((e, i) => element(e, `${p}/elements/${i}`, false));
      break;
    case 'rich_text':
      only(o, p, ['type', 'block_id', 'elements']);
      array(o.elements, `${p}/elements`, 1, 100).forEach((e, i) => richSection(e, `${p}/elements/${i}`));
      break;
    case 'markdown':
      only(o, p, ['type', 'block_id', 'text']);
      string(o, 'text', p, 12_000);
      break;
    default:
      fail(`${p}/type`, o.type === undefined ? 'missing required field: type' : `unsupported block type: ${String(o.type)}`);
  }
  return blockId;
}

/** Walks a blocks array at `p` (`/blocks`, or `/attachments/0/blocks`); block_ids are unique within it. */
export function checkBlocks(v: unknown, p: string): void {
  const blocks = array(v, p, 0, MAX_BLOCKS);
  const ids = new Set<string>();
  blocks.forEach((b, i) => {
    const id = block(b, `${p}/${i}`);
    if (id === undefined) return;
    if (ids.has(id)) fail(`${p}/${i}/block_id`, `duplicate block_id: ${id}`);
    ids.add(id);
  });
}

/** The first problem of a message's `blocks`, or undefined when Slack would accept them. */
export function blocksProblem(blocks: unknown): BlockKitProblem | undefined {
  return firstProblem(() => checkBlocks(blocks, '/blocks'));
}
