import { type Block, type BlockKitProblem, array, blocksProblem, checkBlocks, fail, firstProblem, object, string } from './block-kit.js';
import { holdsNul } from './payload.js';
import { SlackError } from './slack-error.js';

/** A legacy (secondary) attachment as a poster sends it: kept as sent, checked for shape and size. */
export type LegacyAttachment = Record<string, unknown>;

/**
 * What a message carries besides its text: Block Kit blocks, legacy attachments, and Slack's
 * `me_message` subtype. Stored in `messages.rich` (plaintext) or sealed with the text (EKM).
 */
export interface RichContent {
  blocks?: Block[];
  attachments?: LegacyAttachment[];
  subtype?: 'me_message';
  /** A bot's message: Slack's bot_id and bot_profile, as they were when it was posted. */
  bot_id?: string;
  bot_profile?: BotProfile;
  /** A bot token's username / icon_emoji / icon_url overrides (chat.postMessage), shown as Slack shows them. */
  username?: string;
  icons?: MessageIcons;
}

export interface BotProfile {
  id: string;
  name: string;
  deleted: boolean;
  team_id: string;
  app_id?: string;
}

/** Slack's `icons` on a message with an icon override: the emoji, or the image URL. */
export type MessageIcons = { emoji: string } | { image_48: string; image_64?: string; image_72?: string };

export interface IdentityOverrides {
  as_user?: boolean;
  username?: string;
  icon_emoji?: string;
  icon_url?: string;
}

/**
 * Who a new message says posted it. A bot's message carries bot_id and bot_profile; a bot token
 * may also override the name and icon shown (username, icon_emoji over icon_url), as Slack allows
 * with chat:write.customize. Slack ignores the overrides for a person's token and with as_user=true.
 */
export function posterIdentity(
  poster: { bot_id?: string | null; real_name?: string | null; name: string },
  workspace: string,
  o: IdentityOverrides = {},
): Pick<RichContent, 'bot_id' | 'bot_profile' | 'username' | 'icons'> {
  if (!poster.bot_id) return {};
  const out: Pick<RichContent, 'bot_id' | 'bot_profile' | 'username' | 'icons'> = {
    bot_id: poster.bot_id,
    bot_profile: { id: poster.bot_id, name: poster.real_name || poster.name, deleted: false, team_id: workspace },
  };
  if (o.as_user) return out;
  const username = o.username?.trim();
  if (username) out.username = username;
  const emoji = o.icon_emoji?.trim();
  const url = o.icon_url?.trim();
  if (emoji) out.icons = { emoji: emoji.startsWith(':') ? emoji : `:${emoji}:` };
  else if (url) out.icons = { image_48: url };
  return out;
}

/** The bot identity part of rich content (what chat.update keeps from the message as it was). */
export function botIdentity(rich: RichContent | undefined): Pick<RichContent, 'bot_id' | 'bot_profile' | 'username' | 'icons'> {
  if (!rich) return {};
  const { bot_id, bot_profile, username, icons } = rich;
  return {
    ...(bot_id ? { bot_id } : {}),
    ...(bot_profile ? { bot_profile } : {}),
    ...(username ? { username } : {}),
    ...(icons ? { icons } : {}),
  };
}

export const MAX_ATTACHMENTS = 100;
const MAX_ATTACHMENT_STRING = 40_000;
const ATTACHMENT_STRINGS = [
  'fallback',
  'color',
  'pretext',
  'author_name',
  'author_link',
  'author_icon',
  'title',
  'title_link',
  'text',
  'image_url',
  'thumb_url',
  'footer',
  'footer_icon',
  'callback_id',
];

function checkAttachments(v: unknown): void {
  const items = array(v, '/attachments', 0, MAX_ATTACHMENTS);
  items.forEach((item, i) => {
    const p = `/attachments/${i}`;
    const a = object(item, p);
    for (const key of ATTACHMENT_STRINGS) {
      if (a[key] === undefined) continue;
      if (typeof a[key] !== 'string') fail(`${p}/${key}`, 'must be a string');
      if ((a[key] as string).length > MAX_ATTACHMENT_STRING)
        fail(`${p}/${key}`, `must be less than ${MAX_ATTACHMENT_STRING + 1} characters`);
    }
    if (a.fields !== undefined) {
      array(a.fields, `${p}/fields`, 0, 100).forEach((f, j) => {
        const field = object(f, `${p}/fields/${j}`);
        string(field, 'title', `${p}/fields/${j}`, 2000, true);
        if (field.value !== undefined && typeof field.value !== 'string') fail(`${p}/fields/${j}/value`, 'must be a string');
        if (field.short !== undefined && typeof field.short !== 'boolean') fail(`${p}/fields/${j}/short`, 'must be a boolean');
      });
    }
    if (a.mrkdwn_in !== undefined) {
      array(a.mrkdwn_in, `${p}/mrkdwn_in`, 0, 10).forEach((m, j) => {
        if (typeof m !== 'string') fail(`${p}/mrkdwn_in/${j}`, 'must be a string');
      });
    }
    if (a.ts !== undefined && typeof a.ts !== 'number' && typeof a.ts !== 'string') fail(`${p}/ts`, 'must be a number');
    if (a.blocks !== undefined) checkBlocks(a.blocks, `${p}/blocks`);
  });
}

/** The first problem of a message's `attachments`, or undefined. */
export function attachmentsProblem(attachments: unknown): BlockKitProblem | undefined {
  return firstProblem(() => checkAttachments(attachments));
}

/** What a person would see of an attachment: any of these makes it content (Slack's fallback rules). */
const SHOWN = ['fallback', 'pretext', 'author_name', 'title', 'text', 'image_url', 'thumb_url', 'footer'];
const attachmentShowsSomething = (a: LegacyAttachment) =>
  SHOWN.some((k) => typeof a[k] === 'string' && (a[k] as string).trim() !== '') ||
  (Array.isArray(a.fields) && a.fields.length > 0) ||
  (Array.isArray(a.blocks) && a.blocks.length > 0);

/**
 * blocks / attachments arguments as Slack takes them: a JSON array, or a string holding one (form
 * posts, @slack/web-api). Unparseable → `invalid_blocks_format` / `invalid_attachments`.
 */
function parseArgument(value: unknown, badFormat: string): unknown {
  if (typeof value !== 'string') return value;
  if (value.trim() === '') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new SlackError(badFormat);
  }
}

const refusal = (code: string, problem: BlockKitProblem) => {
  const line = `${problem.message} [json-pointer:${problem.pointer}]`;
  return new SlackError(code, 200, { errors: [line], response_metadata: { messages: [`[ERROR] ${line}`] } });
};

export interface MessageContentArgs {
  text?: string;
  blocks?: unknown;
  attachments?: unknown;
}

/**
 * A post's or edit's text and rich content, checked as Slack checks them: blocks against Block Kit
 * (`invalid_blocks` with the JSON pointer of the first error), attachments (`invalid_attachments`),
 * and some content somewhere (`no_text`): text may be left out when blocks or attachments carry the
 * message (it is then stored empty; Slack uses it only for notifications). `blocks`/`attachments`
 * come back undefined when not given (chat.update keeps the previous ones then) and [] when cleared.
 */
export function parseMessageContent(args: MessageContentArgs): { text: string; blocks?: Block[]; attachments?: LegacyAttachment[] } {
  const blocks = parseArgument(args.blocks, 'invalid_blocks_format');
  const attachments = parseArgument(args.attachments, 'invalid_attachments');
  if (blocks !== undefined) {
    if (!Array.isArray(blocks)) throw new SlackError('invalid_blocks_format');
    const problem = holdsNul(blocks) ? { pointer: '/blocks', message: 'must not contain NUL' } : blocksProblem(blocks);
    if (problem) throw refusal('invalid_blocks', problem);
  }
  if (attachments !== undefined) {
    if (!Array.isArray(attachments)) throw new SlackError('invalid_attachments');
    const problem = holdsNul(attachments) ? { pointer: '/attachments', message: 'must not contain NUL' } : attachmentsProblem(attachments);
    if (problem) throw refusal('invalid_attachments', problem);
  }
  return {
    text: args.text ?? '',
    ...(blocks !== undefined ? { blocks: blocks as Block[] } : {}),
    ...(attachments !== undefined ? { attachments: attachments as LegacyAttachment[] } : {}),
  };
}

/** True when a message with this text and rich content shows something (else Slack answers no_text). */
export function hasContent(text: string, rich: RichContent | undefined): boolean {
  return text !== '' || (rich?.blocks?.length ?? 0) > 0 || (rich?.attachments ?? []).some(attachmentShowsSomething);
}

/** Rich content worth storing: undefined when it holds nothing (a plain text message stays as it was). */
export function richOrNothing(rich: RichContent): RichContent | undefined {
  const out: RichContent = {};
  if (rich.blocks?.length) out.blocks = rich.blocks;
  if (rich.attachments?.length) out.attachments = rich.attachments;
  if (rich.subtype) out.subtype = rich.subtype;
  Object.assign(out, botIdentity(rich));
  return Object.keys(out).length ? out : undefined;
}

// A sealed body (EKM) holds the text alone, or, when the message has rich content, this marker and a
// JSON envelope. Text can never start with NUL (the API refuses NUL, PostgreSQL cannot store it), so
// the marker cannot be mistaken for text.
const ENVELOPE = '\u0000rich:';

/** The string sealed for a message: its text, or text and rich content together. */
export function packBody(text: string, rich: RichContent | undefined): string {
  return rich ? `${ENVELOPE}${JSON.stringify({ text, rich })}` : text;
}

/** The inverse of packBody. */
export function unpackBody(body: string): { text: string; rich?: RichContent } {
  if (!body.startsWith(ENVELOPE)) return { text: body };
  const parsed = JSON.parse(body.slice(ENVELOPE.length)) as { text: string; rich: RichContent };
  return { text: parsed.text, rich: parsed.rich };
}
