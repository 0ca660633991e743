import type { Queryable } from '../db/database.js';
import { parseTs } from '../domain/ts.js';
import type { GlobalEvent, Projection } from '../projections/projection.js';
import type { JobQueues } from './job-queues.js';
import { QUEUES, unfurlJobId, type UnfurlJob } from './queues.js';

const HAS_LINK = /https?:\/\//i;

/**
 * Jobs are derived from the stream, not enqueued after commit: this consumer runs under the
 * projector (checkpoint in the same transaction), and enqueues with ids derived from the event.
 * While Redis is down, `apply` throws, the checkpoint stays, and the same events are dispatched
 * again later; the deterministic ids make the repeat a no-op. Posting never waits on Redis.
 *
 * Unfurls: a posted message with a link, and an edit whose message links something or has previews
 * (a link added gets its preview, a link removed loses it). The job id is the post's or the edit's
 * own seq, so each edit is unfurled once.
 */
export class JobDispatchProjection implements Projection {
  readonly name = 'job-dispatch';
  readonly tables = [] as const;

  constructor(private readonly queues: JobQueues) {}

  async apply(db: Queryable, events: readonly GlobalEvent[]): Promise<void> {
    const unfurls = events
      .filter((e) => e.type === 'message')
      .filter((e) => HAS_LINK.test(e.text))
      .map((e) => unfurl(e.channel, e.seq, e.seq));
    const edits = events.flatMap((e) => {
      const ts = editToUnfurl(e);
      return ts === undefined ? [] : [{ channel: e.channel, ts, seq: e.seq }];
    });
    if (edits.length) {
      const seqs = await messageSeqs(db, edits);
      for (const e of edits) {
        const seq = seqs.get(`${e.channel}:${e.ts}`);
        if (seq !== undefined) unfurls.push(unfurl(e.channel, seq, e.seq));
      }
    }
    if (unfurls.length) await this.queues.get(QUEUES.unfurl).addBulk(unfurls);
  }
}

const unfurl = (channel: string, messageSeq: number, eventSeq: number) => ({
  name: 'unfurl',
  data: { channel, seq: messageSeq } satisfies UnfurlJob,
  opts: { jobId: unfurlJobId(channel, eventSeq) },
});

/**
 * The edited message's ts for an edit (not a preview or an EKM announcement: only an edit sets `edited.ts` to its own ts) of a
 * message that links something or shows previews. An edit already overtaken by a later one is
 * skipped: the body shows the later edit, whose own event unfurls it.
 */
function editToUnfurl(e: GlobalEvent): bigint | undefined {
  if (e.type !== 'message_changed' || !e.message || e.message.edited?.ts !== e.ts) return undefined;
  if (!HAS_LINK.test(e.message.text) && !e.message.attachments?.length) return undefined;
  return parseTs(e.message.ts);
}

/** The seq of each edited message, by channel and ts. */
async function messageSeqs(db: Queryable, messages: Array<{ channel: string; ts: bigint }>): Promise<Map<string, number>> {
  const { rows } = await db.query<{ channel_id: string; ts: string; seq: string }>(
    `SELECT m.channel_id, m.ts, m.seq FROM messages m
       JOIN unnest($1::text[], $2::bigint[]) AS k(channel_id, ts) ON m.channel_id = k.channel_id AND m.ts = k.ts`,
    [messages.map((m) => m.channel), messages.map((m) => m.ts.toString())],
  );
  return new Map(rows.map((r) => [`${r.channel_id}:${r.ts}`, Number(r.seq)]));
}
