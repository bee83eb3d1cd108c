import { isMainThread } from 'node:worker_threads';
import { loadConfigOrExit } from '@gridstream/config';
import { runService, runWorkers, workerShareOfHeap } from '@gridstream/runtime';
import { startEnergyProcessor } from './run.ts';

// With GS_ENERGY_WORKERS > 1 this file is loaded again by each worker thread, which runs one
// processor: a member of the consumer group like any other instance. The workers share the
// heap the process was given (its memory bound), rather than each taking all of it.
const workers = isMainThread ? loadConfigOrExit().GS_ENERGY_WORKERS : 1;
if (workers > 1) {
  const resourceLimits = workerShareOfHeap(workers);
  await runWorkers('energy processor', new URL(import.meta.url), workers, {
    ...(resourceLimits === undefined ? {} : { resourceLimits }),
  });
} else await runService('energy processor', startEnergyProcessor);
