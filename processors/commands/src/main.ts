import { runService } from '@gridstream/runtime';
import { startCommandsProcessor } from './run.ts';

await runService('commands processor', (config) =>
  startCommandsProcessor(config, { log: (line) => process.stderr.write(`${line}\n`) }),
);
