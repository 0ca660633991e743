import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';

/** A workspace's own emoji (name → image URL): managed over the admin API, used by reactions and emoji.list. */
@Injectable()
export class CustomEmojiRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async list(workspace: string): Promise<Array<{ name: string; url: string }>> {
    const { rows } = await this.pool.query<{ name: string; url: string }>(
      'SELECT name, url FROM custom_emoji WHERE workspace_id = $1 ORDER BY name',
      [workspace],
    );
    return rows;
  }

  async exists(workspace: string, name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM custom_emoji WHERE workspace_id = $1 AND name = $2', [workspace, name]);
    return rowCount === 1;
  }

  /** False when the workspace has an emoji of that name already. */
  async add(workspace: string, name: string, url: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'INSERT INTO custom_emoji (workspace_id, name, url) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [workspace, name, url],
    );
    return rowCount === 1;
  }

  async remove(workspace: string, name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM custom_emoji WHERE workspace_id = $1 AND name = $2', [workspace, name]);
    return rowCount === 1;
  }
}
