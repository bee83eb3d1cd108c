// An API ingest worker thread (started by startIngestWorkers in ingest.ts): a Kafka producer of
// its own, and every POST /v1/readings body handed to it parsed, checked and published.
import { parentPort, workerData } from 'node:worker_threads';
import { v7 as uuidv7 } from 'uuid';
import { isRetriable } from '@gridstream/errors';
import { createEventPublisher, createKafka, topicNames } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { serveIngest } from './ingest.ts';
import { readingKeyStore } from './reading-keys.ts';
import type { FromWorker, IngestWorkerData, ToWorker } from './ingest.ts';

const port = parentPort;
if (port === null) throw new Error('ingest-worker.ts runs as a worker thread (startIngestWorkers)');
const post = (message: FromWorker) => {
  port.postMessage(message);
};
const data = workerData as IngestWorkerData;

try {
  const kafka = createKafka(data.kafka);
  const publisher = await createEventPublisher(kafka, topicNames(data.topicPrefix));
  const mongo = data.mongo === undefined ? undefined : await connectMongo(data.mongo);
  const serve = serveIngest(
    { postMessage: post },
    {
      publisher,
      newEventId: () => uuidv7(),
      keys: mongo === undefined ? undefined : readingKeyStore(mongo.db),
    },
  );
  port.on('message', (message: ToWorker | 'stop') => {
    if (message === 'stop')
      // The API has closed its HTTP server by now, which waits for every request: none is left.
      void Promise.allSettled([publisher.disconnect(), mongo?.close()]).finally(() =>
        process.exit(0),
      );
    else serve(message);
  });
  post({ kind: 'ready' });
} catch (error) {
  post({
    kind: 'start-failed',
    message: error instanceof Error ? error.message : String(error),
    retriable: isRetriable(error),
  });
  process.exit(0);
}
