import { createApp, createWorker } from '../../src/app.js';
import { ChatService } from '../../src/api/chat/chat.service.js';
import { loadConfig } from '../../src/config/config.js';
import { JobDispatcher } from '../../src/jobs/job-dispatcher.service.js';
import { JobWorkers } from '../../src/jobs/job-workers.service.js';
import { NotifyDispatcher } from '../../src/jobs/notify/notify-dispatcher.service.js';
import { ProjectorService } from '../../src/projections/projector.service.js';
import webpush from 'web-push';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { waitFor } from '../support/wait-for.js';

// ROLES=api nodes leave the projector and the job dispatcher to a ROLES=consumers process.
describe('the consumers role', () => {
  let db: TestDatabase;
  // VAPID keys: the notify consumer runs too (it follows ROLES like the others).
  const vapid = webpush.generateVAPIDKeys();
  const config = (env: Record<string, string>) =>
    loadConfig({
      DATABASE_URL: db.url,
      LOG_LEVEL: 'silent',
      PORT: '0',
      JOBS_PREFIX: db.name,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      ...env,
    });
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('an api node started first leads no consumer; a consumers-only process leads them all and serves nothing', async () => {
    const api = await createApp(config({ ROLES: 'api' }));
    await api.init();
    // Were the api node running them, its first passes (queued at bootstrap) would take every
    // consumer's advisory lock before the consumers process even connects.
    const consumers = await createWorker(config({ ROLES: 'consumers' }));
    try {
      const projectors = [
        ...consumers.get(ProjectorService).projectors,
        consumers.get(JobDispatcher).projector,
        consumers.get(NotifyDispatcher).projector,
      ];
      await waitFor(() => projectors.every((p) => p.isLeader), 20_000, 'the consumers process to lead every consumer');
      const apiProjectors = [
        ...api.get(ProjectorService).projectors,
        api.get(JobDispatcher).projector,
        api.get(NotifyDispatcher).projector,
      ];
      expect(apiProjectors.map((p) => p.isLeader)).toEqual(apiProjectors.map(() => false));
      expect(() => consumers.get(ChatService)).toThrow();
      expect(consumers.get(JobWorkers)).toBeInstanceOf(JobWorkers);
    } finally {
      await consumers.close();
      await api.close();
    }
  }, 60_000);
});
