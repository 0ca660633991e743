// The append benchmark's variants, apart from their workloads so that reports can name them without
// loading the drivers.
export type Variant = 'a' | 'b' | 'c' | 'd' | 'e';

export const VARIANTS: Record<Variant, string> = {
  a: 'plain INSERT (pg)',
  b: 'post_message() call',
  c: 'chat.postMessage (HTTP)',
  d: 'Emmett appendToStream',
  e: 'bare append_event() (opt-in)',
};
