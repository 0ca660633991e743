// Builds this run's migrated template database; every test file clones it (CREATE DATABASE ... TEMPLATE),
// so files run in parallel on their own databases. Plain JS: jest loads global setup outside its transform,
// which is why migrate() itself is plain JS too (src/db/migrate.mjs): the template is built as `npm start` builds.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../src/db/migrate.mjs';

export const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

export default async function globalSetup() {
  const template = `atomcast_tpl_${randomBytes(4).toString('hex')}`;
  process.env.ATOMCAST_TEST_TEMPLATE = template; // inherited by the jest workers
  const admin = new pg.Client({ connectionString: `${SERVER_URL}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();
  await migrate(`${SERVER_URL}/${template}`);
}
