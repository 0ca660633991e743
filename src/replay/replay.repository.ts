import type { Queryable } from '../db/database.js';

/** The few channel lookups replay needs besides the event store's reads. */
export class ReplayRepository {
  constructor(private readonly db: Queryable) {}

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

  /** Events after a global cursor, counted (an estimate of the work for a progress bar). */
  async countAfter(txId: string, position: string, workspace?: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM events e
        WHERE (e.tx_id, e.position) > ($1::xid8, $2::bigint)
          AND ($3::text IS NULL OR e.channel_id IN (SELECT id FROM channels WHERE workspace_id = $3))`,
      [txId, position, workspace ?? null],
    );
    return Number(rows[0].n);
  }
}
