import { startLiveProjection } from '@gridstream/projection';
import { runService } from '@gridstream/runtime';
import { commandsProjection } from './projection.ts';

await runService('commands projection', (config) =>
  startLiveProjection(config, commandsProjection, {
    log: (line) => process.stderr.write(`${line}\n`),
  }),
);
