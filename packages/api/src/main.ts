import { runService } from '@gridstream/runtime';
import { startApi } from './server.ts';

await runService('API', async (config) => {
  const api = await startApi(config);
  process.stderr.write(`gridstream: API listening on ${api.url ?? '(not listening)'}\n`);
  return { stop: () => api.close() };
});
