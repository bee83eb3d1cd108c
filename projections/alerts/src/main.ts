import { startLiveProjection } from '@gridstream/projection';
import { runService } from '@gridstream/runtime';
import { alertsProjection } from './projection.ts';

await runService('alerts projection', (config) =>
  startLiveProjection(config, alertsProjection, {
    log: (line) => process.stderr.write(`${line}\n`),
  }),
);
