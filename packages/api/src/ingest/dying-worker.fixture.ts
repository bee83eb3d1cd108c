// A stand-in ingest worker for ingest.int.spec.ts. With clientId 'cannot-start' it reports a
// retriable start failure (as when Kafka is down); otherwise it is ready at once and dies
// (exit code 3) on the first body it is given, before answering it.
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, IngestWorkerData } from './ingest.ts';

if ((workerData as IngestWorkerData).kafka.clientId === 'cannot-start') {
  parentPort?.postMessage({
    kind: 'start-failed',
    message: 'Kafka is not answering',
    retriable: true,
  } satisfies FromWorker);
  process.exit(0);
}
parentPort?.postMessage({ kind: 'ready' } satisfies FromWorker);
parentPort?.on('message', () => {
  process.exit(3);
});
