/**
 * A worker thread folding one part of a build (startBuildParts): it loads the projection's
 * definition by module and export, runs the part's write-behind build, reports what it has
 * handled, and checkpoints and stops when the thread that started it asks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Document } from 'mongodb';
import { connectMongo } from '@gridstream/mongo';
import type { ProjectionDefinition } from './definition.ts';
import type { PartRequest, PartWorkerData, PartWorkerMessage } from './build-parts.ts';
import { runBuild } from './run-build.ts';

const port = parentPort;
if (port === null)
  throw new Error('build-part-worker.ts runs in a worker thread (startBuildParts)');
const post = (message: PartWorkerMessage) => {
  port.postMessage(message);
};
const data = workerData as PartWorkerData;

try {
  const module = (await import(data.module)) as Record<string, unknown>;
  const definition = module[data.exportName] as ProjectionDefinition<Document> | undefined;
  if (definition?.name !== data.projection)
    throw new Error(
      `${data.module} exports no projection ${data.projection} as ${data.exportName}`,
    );
  const mongo = await connectMongo(data.config);
  // What the part has handled, after every batch: the rebuild's progress and its test of
  // having caught up read it between checkpoints.
  const build = await runBuild(data.config, mongo.db, definition, data.buildId, {
    ...data.options,
    onHandled: (handled) => {
      post({ type: 'handled', handled });
    },
  });
  port.on('message', (request: PartRequest) => {
    const work = request.type === 'checkpoint' ? build.checkpoint() : stop();
    work.then(
      () => {
        post({ type: 'done', id: request.id });
      },
      (error: unknown) => {
        post({ type: 'failed', id: request.id, message: messageOf(error) });
      },
    );
  });
  const stop = async () => {
    try {
      await build.stop();
    } finally {
      await mongo.close();
    }
  };
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'failed', message: messageOf(error) });
}
// The thread that started this one ends it (Worker.terminate) once it has answered a stop.

function messageOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
