import type { Queryable } from '../db/database.js';
import type { ChannelEvent } from '../event-store/events.js';

/** An event as the global cursor delivers it: the channel event plus its position in the log. */
export type GlobalEvent = ChannelEvent & { cursor: string };

/**
 * A read model kept from the global event log. The statements `apply` sends on `db` run in the
 * projector's transaction, which the first of them opens with the checkpoint moves, so a batch takes
 * effect in the database exactly once (an apply that sends none only moves the checkpoint; its
 * effects elsewhere, such as queued jobs with derived ids, are at-least-once either way). The
 * projections of one projector apply each batch at the same time in that transaction, so each
 * writes only its own tables. It must be a pure function of the events (and of the bodies they
 * carry), so that a rebuild from position 0 produces the same rows as the live projection.
 */
export interface Projection {
  /** Checkpoint name, advisory-lock key and the name the rebuild command takes. */
  readonly name: string;
  /** Every table the projection owns; a rebuild truncates them. */
  readonly tables: readonly string[];
  apply(db: Queryable, events: readonly GlobalEvent[]): Promise<void>;
}
