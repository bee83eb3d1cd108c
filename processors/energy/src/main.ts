import { loadConfigOrExit } from '@gridstream/config';
import { startEnergyProcessor } from './run.ts';

const config = loadConfigOrExit();
const processor = await startEnergyProcessor(config);
process.stderr.write('gridstream: energy processor running\n');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void processor.stop().finally(() => process.exit(0));
  });
}
