import { Module } from '@nestjs/common';
import { BodyCipher } from '../crypto/body-cipher.js';
import { CryptoModule } from '../crypto/crypto.module.js';
import { BodyOpener } from './body-opener.js';
import { EventStore } from './event-store.js';

/** The append path and the stream reads; the body cipher seals and opens EKM workspaces' bodies. */
@Module({ imports: [CryptoModule], providers: [EventStore, { provide: BodyOpener, useExisting: BodyCipher }], exports: [EventStore] })
export class EventStoreModule {}
