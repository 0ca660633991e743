import { Injectable } from '@nestjs/common';
import { type JobRun, JobRunsRepository } from '../runs/job-runs.repository.js';
import { FileThumbnails } from './file-thumbnails.js';
import { FilesSweep } from './files-sweep.js';

/** Carries out the file runs of job_runs: a thumbnail (`params.file`), or the sweep. */
@Injectable()
export class FilesRunner {
  constructor(
    private readonly thumbnails: FileThumbnails,
    private readonly sweeper: FilesSweep,
    private readonly runs: JobRunsRepository,
  ) {}

  async run(run: JobRun): Promise<void> {
    if (run.kind === 'files-thumbnail') {
      if ((await this.thumbnails.make(String(run.params.file))) === 'made') await this.runs.addProgress(this.runs.pool, run.id, 1);
      return;
    }
    await this.sweeper.sweep(new Date(), (n) => this.runs.addProgress(this.runs.pool, run.id, n));
  }
}
