import pg from 'pg';
import { createBenchDatabase } from '../append/setup.js';

const SWAPPED_TYPES = [20, 114, 3802]; // int8, json, jsonb

/**
 * The append benchmark's fresh database (migrated, dropped by dropBenchDatabase). Its set-up also
 * creates Emmett's schema, and Emmett's driver swaps pg's process-wide parsers (int8 becomes a
 * BigInt, which the app's services cannot JSON-serialize); the app runs in this process, so pg's
 * own parsers are put back.
 */
export async function createJobsDatabase(serverUrl: string): Promise<string> {
  const parsers = SWAPPED_TYPES.map((oid) => [oid, pg.types.getTypeParser(oid)] as const);
  try {
    return await createBenchDatabase(serverUrl);
  } finally {
    for (const [oid, parse] of parsers) pg.types.setTypeParser(oid, parse);
  }
}
