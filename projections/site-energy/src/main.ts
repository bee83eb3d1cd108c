import { startLiveProjection } from '@gridstream/projection';
import { runService } from '@gridstream/runtime';
import { siteEnergyProjection } from './projection.ts';

await runService('site-energy projection', (config) =>
  startLiveProjection(config, siteEnergyProjection, {
    log: (line) => process.stderr.write(`${line}\n`),
  }),
);
