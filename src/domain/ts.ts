import { SlackError } from './slack-error.js';

// Slack's message timestamp "<unix seconds>.<6 digits>", stored as integer microseconds (bigint).

export function formatTs(micros: string | bigint | number): string {
  const s = BigInt(micros).toString().padStart(7, '0');
  return `${s.slice(0, -6)}.${s.slice(-6)}`;
}

const TS = /^\d{1,12}(\.\d{1,6})?$/;

/** Parses a Slack ts into microseconds; returns undefined when it is not one. */
export function parseTs(value: string): bigint | undefined {
  if (!TS.test(value)) return undefined;
  const [secs, frac = ''] = value.split('.');
  return BigInt(secs) * 1_000_000n + BigInt(frac.padEnd(6, '0'));
}

export function requireTs(value: string, error: string): bigint {
  const micros = parseTs(value);
  if (micros === undefined) throw new SlackError(error);
  return micros;
}
