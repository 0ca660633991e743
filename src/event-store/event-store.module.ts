import { Module } from '@nestjs/common';
import { BodyCipher } from '../crypto/body-cipher.js';
import { CryptoModule } from '../crypto/crypto.module.js';
import { BodyOpener } from './body-opener.js';
import { EventStore } from './event-store.js';

/**
 * The append path and the stream reads; the body cipher seals and opens EKM workspaces' bodies. The
 * store's readers read many workspaces in one batch, so a body whose key service fails does not
 * throw there the way a caller's read does: the relay reads it as denied, the log's consumers wait
 * for it for a while (BodyOpener).
 */
const opener = (cipher: BodyCipher): BodyOpener => ({
  openRows: (rows, onServiceFailure = 'deny') => cipher.openRows(rows, onServiceFailure),
});

@Module({
  imports: [CryptoModule],
  providers: [EventStore, { provide: BodyOpener, useFactory: opener, inject: [BodyCipher] }],
  exports: [EventStore],
})
export class EventStoreModule {}
