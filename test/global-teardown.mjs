import pg from 'pg';
import { SERVER_URL } from './global-setup.mjs';

export default async function globalTeardown() {
  const template = process.env.ATOMCAST_TEST_TEMPLATE;
  if (!template) return;
  const admin = new pg.Client({ connectionString: `${SERVER_URL}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  await admin.end();
}
