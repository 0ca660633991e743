// The append benchmark's variants, apart from their workloads so that reports can name them without
// loading the drivers.
export type Variant = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g';

export const VARIANTS: Record<Variant, string> = {
  a: 'plain INSERT (pg)',
  b: 'post_message() call',
  c: 'chat.postMessage (HTTP)',
  d: 'Emmett appendToStream',
  e: 'bare Fastify route, same token check and post_message()',
  f: 'bare append_event() (opt-in)',
  g: 'chat.postMessage (HTTP), 2 app processes',
};

/** Variants served over HTTP by a server process of their own (the rest load the database directly). */
export const HTTP_VARIANTS: readonly Variant[] = ['c', 'e', 'g'];

/**
 * The runs of the single post at low load: the store call alone, the bare route, the same server
 * answering with no database (what one HTTP round trip costs on this box), and the real app
 * as `npm start` runs it by default (every role: its consumers share the thread that answers) and
 * with the API role alone (what the consumers add to the answer).
 */
export const LOW_LOAD_RUNS = {
  b: { variant: 'b', label: `(b) ${VARIANTS.b}` },
  e: { variant: 'e', label: `(e) ${VARIANTS.e}` },
  hop: { variant: 'e', label: "(e) the bare route's server with no database: one HTTP round trip" },
  c: { variant: 'c', label: `(c) ${VARIANTS.c}, default ROLES` },
  'c-api': { variant: 'c', label: `(c) ${VARIANTS.c}, ROLES=api` },
} as const satisfies Record<string, { variant: Variant; label: string }>;
export type LowLoadRun = keyof typeof LOW_LOAD_RUNS;
