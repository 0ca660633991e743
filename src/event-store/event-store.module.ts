import { Module } from '@nestjs/common';
import { BodyCipher } from '../crypto/body-cipher.js';
import { CryptoModule } from '../crypto/crypto.module.js';
import { BodyOpener } from './body-opener.js';
import { EventStore } from './event-store.js';

/**
 * The append path and the stream reads; the body cipher seals and opens EKM workspaces' bodies. The
 * store's readers (relay, projector, app streams) read many workspaces in one batch: a body whose
 * key service fails reads as denied there rather than stopping every workspace's pass.
 */
const opener = (cipher: BodyCipher): BodyOpener => ({ openRows: (rows) => cipher.openRows(rows, 'deny') });

@Module({
  imports: [CryptoModule],
  providers: [EventStore, { provide: BodyOpener, useFactory: opener, inject: [BodyCipher] }],
  exports: [EventStore],
})
export class EventStoreModule {}
