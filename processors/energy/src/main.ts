import { isMainThread } from 'node:worker_threads';
import { loadConfigOrExit } from '@gridstream/config';
import { runService, runWorkers } from '@gridstream/runtime';
import { startEnergyProcessor } from './run.ts';

// With GS_ENERGY_WORKERS > 1 this file is loaded again by each worker thread, which runs one
// processor: a member of the consumer group like any other instance.
const workers = isMainThread ? loadConfigOrExit().GS_ENERGY_WORKERS : 1;
if (workers > 1) await runWorkers('energy processor', new URL(import.meta.url), workers);
else await runService('energy processor', startEnergyProcessor);
