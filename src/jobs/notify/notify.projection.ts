import type { Queryable } from '../../db/database.js';
import type { MessagePosted } from '../../domain/events.js';
import { parseTs } from '../../domain/ts.js';
import type { GlobalEvent, Projection } from '../../projections/projection.js';
import { parseMentions } from '../../projections/unread/mentions.js';
import type { JobQueues } from '../job-queues.js';
import { notifyJobId, QUEUES, type NotifyJob } from '../queues.js';
import type { NotifyMessage, NotifyRepository, Recipient } from './notify.repository.js';

/** Called with each message's decision (tests and the benchmark watch it); `ms`: the batch's decision time over its messages. */
export type DecisionListener = (d: { channel: string; seq: number; recipients: Recipient[]; ms: number }) => void;

/**
 * The notification consumer of the log: for each new message it decides who is told (one SQL
 * statement per batch, NotifyRepository.recipients) and queues one job per device, with an id derived from
 * the message and the device, so a re-dispatch after a crash is a no-op and a device gets one
 * notification per message. It runs under the projector (checkpointed, one leader across nodes),
 * never on the post's path: a post commits and answers before anyone here reads it.
 *
 * Not a read model: it is not rebuilt (a rebuild would notify again), and its decisions use the
 * state of now (mutes, who is looking) rather than the state when the message was posted, which
 * is what a person expects of a notification. Messages older than `maxAgeSeconds` when reached
 * (a consumer that was down for a while) are skipped rather than delivered late.
 */
export class NotifyProjection implements Projection {
  readonly name = 'notify';
  readonly tables = [] as const;
  private readonly listeners: DecisionListener[] = [];

  constructor(
    private readonly repo: NotifyRepository,
    private readonly queues: JobQueues,
    private readonly maxAgeSeconds: number,
  ) {}

  onDecision(listener: DecisionListener): void {
    this.listeners.push(listener);
  }

  async apply(db: Queryable, events: readonly GlobalEvent[]): Promise<void> {
    const oldest = BigInt(Date.now() - this.maxAgeSeconds * 1000) * 1000n;
    const messages = events.filter(
      (e): e is MessagePosted & { cursor: string } =>
        e.type === 'message' && !!e.user && e.subtype !== 'tombstone' && (parseTs(e.ts) ?? 0n) >= oldest,
    );
    if (!messages.length) return;
    const started = performance.now();
    const decided = await this.repo.recipients(db, messages.map(notifyMessage));
    const ms = (performance.now() - started) / messages.length;
    const jobs: Array<{ name: string; data: NotifyJob; opts: { jobId: string } }> = [];
    messages.forEach((m, i) => {
      const recipients = decided[i];
      for (const r of recipients)
        jobs.push({
          name: 'notify',
          data: { channel: m.channel, seq: m.seq, subscription: r.subscription },
          opts: { jobId: notifyJobId(m.channel, m.seq, r.subscription) },
        });
      for (const listener of this.listeners) listener({ channel: m.channel, seq: m.seq, recipients, ms });
    });
    // Redis down: this throws, the batch and its checkpoint roll back, and the next pass repeats it.
    for (let i = 0; i < jobs.length; i += 1000) await this.queues.get(QUEUES.notify).addBulk(jobs.slice(i, i + 1000));
  }
}

/** What a posted message asks of the decision: its mentions, and its thread when it is a reply. */
function notifyMessage(m: MessagePosted): NotifyMessage {
  const mentions = parseMentions(m.text);
  const parent = m.thread_ts !== undefined && m.thread_ts !== m.ts ? parseTs(m.thread_ts) : undefined;
  return {
    channel: m.channel,
    author: m.user!,
    mentioned: mentions.users,
    everyone: mentions.channel,
    here: mentions.here,
    ...(parent !== undefined ? { parent, broadcast: m.subtype === 'thread_broadcast' } : {}),
  };
}
