import { randomBytes } from 'node:crypto';

// Slack-looking ids: a type letter and ten characters of Crockford-ish base32.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function randomId(prefix: string, length = 10): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const b of bytes) id += ALPHABET[b & 31];
  return id;
}

export const newWorkspaceId = () => randomId('T');
export const newUserId = () => randomId('U');
export const newChannelId = () => randomId('C');
export const newImId = () => randomId('D');
export const newMpimId = () => randomId('G');
export const newTokenId = () => randomId('', 12).toLowerCase();
