import type { MessageRow } from '../domain/message.js';

/**
 * Opens sealed message bodies (EKM) as events are read: fills in `text`, or marks a row
 * `ekm_denied`. Implemented by crypto's BodyCipher; the store runs without one where every body is
 * plaintext (benchmarks). An abstract class so that it is its own Nest injection token.
 */
export abstract class BodyOpener {
  abstract openRows(rows: Array<MessageRow | null | undefined>): Promise<void>;
}
