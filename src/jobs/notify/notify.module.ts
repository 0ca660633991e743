import { Module } from '@nestjs/common';
import { CONFIG, type Config } from '../../config/config.js';
import { CryptoModule } from '../../crypto/crypto.module.js';
import { EventStoreModule } from '../../event-store/event-store.module.js';
import { JobsModule } from '../jobs.module.js';
import { NotifyDelivery } from './notify-delivery.service.js';
import { NotifyDispatcher } from './notify-dispatcher.service.js';
import { NotifySettingsService } from './notify-settings.service.js';
import { NotifyRepository } from './notify.repository.js';
import { PushSender } from './push-sender.js';

/** Notifications by Web Push: the consumer that decides, the worker that sends, the user's settings. */
@Module({
  imports: [EventStoreModule, CryptoModule, JobsModule],
  providers: [
    NotifyRepository,
    NotifyDispatcher,
    NotifyDelivery,
    NotifySettingsService,
    {
      provide: PushSender,
      inject: [CONFIG],
      useFactory: (c: Config) =>
        new PushSender({
          vapid: {
            subject: c.VAPID_SUBJECT ?? `mailto:postmaster@${new URL(c.PUBLIC_URL).hostname}`,
            publicKey: c.VAPID_PUBLIC_KEY ?? '',
            privateKey: c.VAPID_PRIVATE_KEY ?? '',
          },
          ttlSeconds: c.PUSH_TTL_SECONDS,
          timeoutMs: c.PUSH_TIMEOUT_MS,
          allowHttp: c.PUSH_ALLOW_HTTP,
          allowLoopback: c.PUSH_ALLOW_LOOPBACK,
          allowPrivate: c.PUSH_ALLOW_PRIVATE,
        }),
    },
  ],
  exports: [NotifySettingsService, NotifyRepository, NotifyDispatcher],
})
export class NotifyModule {}
