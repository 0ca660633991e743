import type pg from 'pg';
import { cursorPart, type GlobalCursor } from '../event-store/events.js';
import { channelLines, globalLines, type LineRow } from './replay-lines.js';

/** The few channel lookups replay needs besides the event store's reads. */
export class ReplayRepository {
  constructor(private readonly db: pg.Pool) {}

  async channelWorkspace(channel: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ workspace_id: string }>('SELECT workspace_id FROM channels WHERE id = $1', [channel]);
    return rows[0]?.workspace_id;
  }

  async workspacesOf(channels: string[]): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ id: string; workspace_id: string }>(
      'SELECT id, workspace_id FROM channels WHERE id = ANY($1::text[])',
      [channels],
    );
    return new Map(rows.map((r) => [r.id, r.workspace_id]));
  }

  /** Head seq of a channel (for a progress total). */
  async headSeq(channel: string): Promise<number> {
    const { rows } = await this.db.query<{ head_seq: string }>('SELECT head_seq FROM channels WHERE id = $1', [channel]);
    return Number(rows[0]?.head_seq ?? 0);
  }

  /**
   * Events after a global cursor, counted (an estimate of the work for a progress bar). A cursor part
   * per clock domain (tx_node; one on a single server, one per node group on Citus).
   */
  async countAfter(cursor: GlobalCursor, workspace?: string): Promise<number> {
    const groups = cursor.parts ? Object.keys(cursor.parts) : ['0'];
    const parts = groups.map((g) => cursorPart(cursor, g));
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM events e
         LEFT JOIN unnest($1::int[], $2::xid8[], $3::bigint[]) c(tx_node, tx_id, position) ON c.tx_node = e.tx_node
        WHERE (c.tx_node IS NULL OR (e.tx_id, e.position) > (c.tx_id, c.position))
          AND ($4::text IS NULL OR e.channel_id IN (SELECT id FROM channels WHERE workspace_id = $4))`,
      [groups.map(Number), parts.map((p) => p.txId), parts.map((p) => p.position), workspace ?? null],
    );
    return Number(rows[0].n);
  }

  /** One channel's NDJSON lines built by PostgreSQL (null where TypeScript must build one). */
  channelLines(channel: string, afterSeq: number, limit: number): Promise<LineRow[]> {
    return channelLines(this.db, channel, afterSeq, limit);
  }

  /** The global stream's NDJSON lines on one server (null where TypeScript must build one). */
  globalLines(cursor: GlobalCursor, limit: number): Promise<LineRow[]> {
    return globalLines(this.db, cursor, limit);
  }
}
