import { Injectable } from '@nestjs/common';
import { EkmRunner } from '../ekm/ekm.runner.js';
import { FilesRunner } from '../files/files-runner.js';
import { RetentionService, type SweepOptions } from '../retention/retention.service.js';
import { type JobRun, JobRunsRepository } from './job-runs.repository.js';

/**
 * The one lifecycle of every run, whatever its kind: started, carried out by its runner, finished
 * or failed. Runners count their progress in each batch's transaction and resume after a crash, so
 * a worker that runs the same run again (a retry, a re-dispatch) continues where it stopped.
 */
@Injectable()
export class JobRunsService {
  constructor(
    private readonly runs: JobRunsRepository,
    private readonly retention: RetentionService,
    private readonly ekm: EkmRunner,
    private readonly files: FilesRunner,
  ) {}

  /** The worker's entry point. `sweep` tunes retention runs (tests: clock, batch size, crash hook). */
  async execute(runId: string, sweep: SweepOptions = {}): Promise<JobRun> {
    const run = await this.runs.find(runId);
    if (!run) throw new Error(`run ${runId} does not exist`);
    if (run.state === 'done') return run;
    await this.runs.markRunning(run.id);
    try {
      if (run.kind === 'retention') await this.retention.sweep(run, sweep);
      else if (run.kind.startsWith('files-')) await this.files.run(run);
      else await this.ekm.run(run);
    } catch (err) {
      await this.runs.markFinished(run.id, 'failed', err instanceof Error ? err.message : String(err));
      throw err;
    }
    await this.runs.markFinished(run.id, 'done');
    return (await this.runs.find(run.id))!;
  }
}
