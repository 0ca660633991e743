import { randomBytes } from 'node:crypto';
import { migrate } from '../src/db/database.js';
import { databaseUrl, withAdminClient } from './support/databases.js';

/** Builds this run's migrated template; every test file clones it (CREATE DATABASE ... TEMPLATE). */
export default async function globalSetup(): Promise<void> {
  const template = `atomcast_tpl_${randomBytes(4).toString('hex')}`;
  process.env.ATOMCAST_TEST_TEMPLATE = template; // inherited by the jest workers
  await withAdminClient((c) => c.query(`CREATE DATABASE ${template}`));
  await migrate(databaseUrl(template));
}
