import { loadConfigOrExit } from '@gridstream/config';
import { startApi } from './server.ts';

const config = loadConfigOrExit();
const api = await startApi(config);
process.stderr.write(`gridstream: API listening on ${api.url ?? '(not listening)'}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void api.close().finally(() => process.exit(0));
  });
}
