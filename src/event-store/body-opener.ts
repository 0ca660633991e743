import type { MessageRow } from '../domain/message.js';

/**
 * Opens sealed message bodies (EKM) as events are read: fills in `text`, or marks a row
 * `ekm_denied`. Implemented by crypto's BodyCipher; the store runs without one where every body is
 * plaintext (benchmarks). An abstract class so that it is its own Nest injection token.
 * `onServiceFailure`, for a body whose key service fails: 'deny' reads it as denied (live delivery:
 * the client reads it again later); 'hold' throws KeyServiceUnavailable until the key has failed for
 * EKM_HOLD_SECONDS, then denies (the log's consumers, which never read an event twice).
 */
export abstract class BodyOpener {
  abstract openRows(rows: Array<MessageRow | null | undefined>, onServiceFailure?: 'deny' | 'hold'): Promise<void>;
}
