import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp, createWorker } from '../../src/app.js';
import { ChatService } from '../../src/api/chat/chat.service.js';
import { loadConfig } from '../../src/config/config.js';
import { JobDispatcher } from '../../src/jobs/job-dispatcher.service.js';
import { JobWorkers } from '../../src/jobs/job-workers.service.js';
import { ProjectorService } from '../../src/projections/projector.service.js';
import { RealtimeGateway } from '../../src/realtime/realtime.gateway.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// With no global modules but config and the database, a provider whose module forgot an import
// fails here, at boot, in either role.
describe('the process boots in each role', () => {
  let db: TestDatabase;
  const config = (env: Record<string, string>) =>
    loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', PORT: '0', JOBS_PREFIX: db.name, ...env });
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('the default roles (api,worker) serve /healthz and /readyz, and run the workers too', async () => {
    const app: NestFastifyApplication = await createApp(config({}));
    try {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as { port: number };
      const healthz = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect([healthz.status, await healthz.json()]).toEqual([200, { status: 'ok' }]);
      const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(readyz.status).toBe(200);
      const auth = await fetch(`http://127.0.0.1:${port}/api/auth.test`, { method: 'POST' });
      expect(await auth.json()).toEqual({ ok: false, error: 'not_authed' });
      for (const provider of [ChatService, RealtimeGateway, JobWorkers, JobDispatcher, ProjectorService])
        expect(app.get(provider)).toBeInstanceOf(provider);
    } finally {
      await app.close();
    }
  });

  it('a worker-only process (ROLES=worker) resolves its workers, dispatcher and projector, and serves nothing', async () => {
    const worker: INestApplicationContext = await createWorker(config({ ROLES: 'worker' }));
    try {
      for (const provider of [JobWorkers, JobDispatcher, ProjectorService]) expect(worker.get(provider)).toBeInstanceOf(provider);
      expect(() => worker.get(ChatService)).toThrow();
      expect(() => worker.get(RealtimeGateway)).toThrow();
    } finally {
      await worker.close();
    }
  });
});
