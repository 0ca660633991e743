import { type AddressInfo, createServer } from 'node:net';

/**
 * A loopback port nothing listens on now, for a server a test starts itself (redis-server,
 * PostgreSQL): a random pick can land on a port in use, and the server then fails to start.
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
