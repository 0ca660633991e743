import { SlackError } from './slack-error.js';

// Slack's message timestamp "<unix seconds>.<6 digits>", stored as integer microseconds (bigint).
// Every event the consumers read goes through formatTs and back through parseTs, so both take a
// path without BigInt for the values a clock gives (below 2^53 µs, year 2255); the rest, and input
// that only BigInt accepts or rejects, goes through BigInt as before.

/** Decimal digits without a leading zero: what PostgreSQL prints for a bigint ≥ 0. */
const CANONICAL_DIGITS = /^(?:0|[1-9]\d*)$/;

export function formatTs(micros: string | bigint | number): string {
  let digits: string;
  if (typeof micros === 'string' && CANONICAL_DIGITS.test(micros)) digits = micros;
  else if (typeof micros === 'number' && Number.isSafeInteger(micros)) digits = String(micros);
  else digits = BigInt(micros).toString();
  const s = digits.padStart(7, '0');
  return `${s.slice(0, -6)}.${s.slice(-6)}`;
}

const TS = /^\d{1,12}(\.\d{1,6})?$/;

/** Parses a Slack ts into microseconds; returns undefined when it is not one. */
export function parseTs(value: string): bigint | undefined {
  const micros = microsOf(value);
  return micros === undefined ? undefined : BigInt(micros);
}

/** parseTs as the decimal string of the microseconds (what a bigint parameter takes). */
export function tsMicros(value: string): string | undefined {
  const micros = microsOf(value);
  return micros === undefined ? undefined : micros.toString();
}

/** A number when the seconds have at most 9 digits (the microseconds then stay below 2^53). */
function microsOf(value: string): number | bigint | undefined {
  if (!TS.test(value)) return undefined;
  const dot = value.indexOf('.');
  const secs = dot < 0 ? value : value.slice(0, dot);
  const frac = dot < 0 ? '000000' : value.slice(dot + 1).padEnd(6, '0');
  if (secs.length <= 9) return Number(secs) * 1_000_000 + Number(frac);
  return BigInt(secs) * 1_000_000n + BigInt(frac);
}

export function requireTs(value: string, error: string): bigint {
  const micros = parseTs(value);
  if (micros === undefined) throw new SlackError(error);
  return micros;
}
