// Socket payloads arrive as arbitrary JSON; these checks turn anything unexpected into `undefined`,
// which the gateway answers with an `invalid_arguments` ack.

const CHANNEL_ID = /^[A-Z0-9]{1,40}$/;
const USER_ID = /^[A-Z0-9]{1,40}$/;
const MAX_CURSORS = 1000;
const MAX_USERS = 500;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{<channel>: <last seen seq>}` with sane ids and non-negative integer seqs. */
export function parseCursors(value: unknown): Record<string, number> | undefined {
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length > MAX_CURSORS) return undefined;
  const cursors: Record<string, number> = {};
  for (const [channel, seq] of entries) {
    if (!CHANNEL_ID.test(channel) || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
    cursors[channel] = seq;
  }
  return cursors;
}

export function parseChannel(value: unknown): string | undefined {
  return typeof value === 'string' && CHANNEL_ID.test(value) ? value : undefined;
}

export function parseUsers(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_USERS) return undefined;
  if (!value.every((u): u is string => typeof u === 'string' && USER_ID.test(u))) return undefined;
  return [...new Set(value)];
}

/** A list of channel ids (channels.subscribe), at most as many as a socket may have cursors. */
export function parseChannels(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_CURSORS) return undefined;
  if (!value.every((c): c is string => typeof c === 'string' && CHANNEL_ID.test(c))) return undefined;
  return [...new Set(value)];
}
