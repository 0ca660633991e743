import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG, type Config } from '../../config/config.js';
import { FileBytes } from './file-bytes.js';
import { FilesRepository } from './files.repository.js';

const BATCH = 200;

/**
 * Removes bytes nobody can reach any more: uploads never completed within FILES_ORPHAN_TTL_MS, and
 * files deleted (files.delete, retention) whose bytes are still stored (a crash between the delete's
 * commit and the removal). Bytes go first, then the row, so a crash in between leaves a row the next
 * sweep removes again (deleting nothing is not an error).
 */
@Injectable()
export class FilesSweep {
  private readonly log = new Logger('FilesSweep');

  constructor(
    private readonly files: FilesRepository,
    private readonly bytes: FileBytes,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** Returns how many files it removed. */
  async sweep(now = new Date(), onProgress?: (n: number) => Promise<void>): Promise<number> {
    let removed = 0;
    const seen = new Set<string>();
    for (;;) {
      const rows = (await this.files.sweepable(this.config.FILES_ORPHAN_TTL_MS, BATCH, now)).filter((r) => !seen.has(r.id));
      if (!rows.length) break;
      for (const row of rows) {
        seen.add(row.id);
        await this.bytes.remove(row);
        if (await this.files.remove(row.id, row.state)) removed++;
      }
      await onProgress?.(rows.length);
    }
    if (removed) this.log.log(`files sweep: ${removed} removed`);
    return removed;
  }
}
