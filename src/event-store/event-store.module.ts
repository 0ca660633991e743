import { Module } from '@nestjs/common';
import { CryptoModule } from '../crypto/crypto.module.js';
import { EventStore } from './event-store.js';

/** The append path and the stream reads; the body cipher seals and opens EKM workspaces' bodies. */
@Module({ imports: [CryptoModule], providers: [EventStore], exports: [EventStore] })
export class EventStoreModule {}
