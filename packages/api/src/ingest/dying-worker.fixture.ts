// A stand-in ingest worker for ingest.int.spec.ts: ready at once, and it dies (exit code 3)
// on the first body it is given, before answering it.
import { parentPort } from 'node:worker_threads';
import type { FromWorker } from './ingest.ts';

parentPort?.postMessage({ kind: 'ready' } satisfies FromWorker);
parentPort?.on('message', () => {
  process.exit(3);
});
