import { runService } from '@gridstream/runtime';
import { startAlertsProcessor } from './run.ts';

await runService('alerts processor', (config) =>
  startAlertsProcessor(config, { log: (line) => process.stderr.write(`${line}\n`) }),
);
