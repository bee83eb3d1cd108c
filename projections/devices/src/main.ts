import { runService } from '@gridstream/runtime';
import { startDevicesProjection } from './run.ts';

await runService('devices projection', (config) =>
  startDevicesProjection(config, { log: (line) => process.stderr.write(`${line}\n`) }),
);
