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
