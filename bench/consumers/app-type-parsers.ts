import pg from 'pg';

// The comparison benchmarks' Emmett store sets process-wide pg type parsers when it is created
// (int8 as BigInt, json/jsonb through a reviver called for every key), which the app never loads.
// Reads measured in a benchmark process must parse as the app's do, or their CPU is not the app's.
const APP_PARSED = [20, 114, 3802] as const; // int8, json, jsonb

/** Runs `setup` (which may create an Emmett store) and puts the pg type parsers back as they were. */
export async function keepAppTypeParsers<T>(setup: () => Promise<T>): Promise<T> {
  const parsers = APP_PARSED.map((oid) => [oid, pg.types.getTypeParser(oid, 'text')] as const);
  try {
    return await setup();
  } finally {
    for (const [oid, parse] of parsers) pg.types.setTypeParser(oid, 'text', parse);
  }
}
