/** How deep a request body or socket payload may nest; Slack's own shapes (blocks) stay far below it. */
export const MAX_PAYLOAD_DEPTH = 64;

// In a /u regex a surrogate pair is one code point (not Cs); only a lone surrogate matches.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * What is wrong with a decoded payload before anything (class-transformer, validation) walks it:
 * nesting deeper than MAX_PAYLOAD_DEPTH (a recursive walk of 20,000 levels overflows the stack), or
 * a string with a lone UTF-16 surrogate (PostgreSQL would store it altered). Walked without
 * recursion, so the check itself cannot overflow.
 */
export function payloadProblem(value: unknown): 'too_deep' | 'lone_surrogate' | undefined {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return 'lone_surrogate';
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_PAYLOAD_DEPTH) return 'too_deep';
      for (const [key, child] of Object.entries(v)) {
        if (LONE_SURROGATE.test(key)) return 'lone_surrogate';
        stack.push([child, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * True when a string, or a key or string anywhere inside an array or object, holds a NUL: PostgreSQL's
 * text and jsonb refuse it, so such input is refused before it reaches a query. With `depth`, objects
 * nested more than that many levels below `value` are not looked into.
 */
export function holdsNul(value: unknown, depth = Infinity): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object' || depth < 0) return false;
  return Object.entries(value).some(([k, v]) => k.includes('\u0000') || holdsNul(v, depth - 1));
}
