import { runService } from '@gridstream/runtime';
import { startCostProcessor } from './run.ts';

await runService('cost processor', (config) =>
  startCostProcessor(config, { log: (line) => process.stderr.write(`${line}\n`) }),
);
