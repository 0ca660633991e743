import { Module } from '@nestjs/common';
import { CONFIG, type Config } from '../../config/config.js';
import { EventStoreModule } from '../../event-store/event-store.module.js';
import { UnfurlRepository } from './unfurl.repository.js';
import { DEFAULT_UNFURL_OPTIONS, UNFURL_OPTIONS, UnfurlService, type UnfurlOptions } from './unfurl.service.js';

/** The link unfurler the unfurl worker calls. */
@Module({
  imports: [EventStoreModule],
  providers: [
    UnfurlRepository,
    UnfurlService,
    {
      provide: UNFURL_OPTIONS,
      inject: [CONFIG],
      useFactory: (config: Config): UnfurlOptions => ({
        ...DEFAULT_UNFURL_OPTIONS,
        allowLoopback: config.UNFURL_ALLOW_LOOPBACK,
        allowPrivate: config.UNFURL_ALLOW_PRIVATE,
      }),
    },
  ],
  exports: [UnfurlService],
})
export class UnfurlModule {}
