import type { Queryable } from '../db/database.js';
import type { GlobalEvent, Projection } from '../projections/projection.js';
import type { JobQueues } from './job-queues.js';
import { QUEUES, unfurlJobId, type UnfurlJob } from './queues.js';

const HAS_LINK = /https?:\/\//i;

/**
 * Jobs are derived from the stream, not enqueued after commit: this consumer runs under the
 * projector (checkpoint in the same transaction), and enqueues with ids derived from the event.
 * While Redis is down, `apply` throws, the checkpoint stays, and the same events are dispatched
 * again later; the deterministic ids make the repeat a no-op. Posting never waits on Redis.
 */
export class JobDispatchProjection implements Projection {
  readonly name = 'job-dispatch';
  readonly tables = [] as const;

  constructor(private readonly queues: JobQueues) {}

  async apply(_db: Queryable, events: readonly GlobalEvent[]): Promise<void> {
    const unfurls = events
      .filter((e) => e.type === 'message')
      .filter((e) => HAS_LINK.test(e.text))
      .map((e) => ({ name: 'unfurl', data: { channel: e.channel, seq: e.seq } satisfies UnfurlJob, opts: { jobId: unfurlJobId(e.channel, e.seq) } }));
    if (unfurls.length) await this.queues.get(QUEUES.unfurl).addBulk(unfurls);
  }
}
