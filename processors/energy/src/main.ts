import { runService } from '@gridstream/runtime';
import { startEnergyProcessor } from './run.ts';

await runService('energy processor', startEnergyProcessor);
