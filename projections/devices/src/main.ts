import { runService } from '@gridstream/runtime';
import { startRegistryProjections } from './run.ts';

await runService('devices projection', (config) =>
  startRegistryProjections(config, { log: (line) => process.stderr.write(`${line}\n`) }),
);
