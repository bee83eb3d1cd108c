import { loadConfigOrExit } from '@gridstream/config';
import { startDevicesProjection } from './run.ts';

const config = loadConfigOrExit();
const projection = await startDevicesProjection(config);
process.stderr.write('gridstream: devices projection running\n');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void projection.stop().finally(() => process.exit(0));
  });
}
