import type { Document, IndexDescription } from 'mongodb';
import type { GridstreamEvent } from '@gridstream/events';
import type { PositionedEvent, TopicRole } from '@gridstream/kafka';
import type { PositionedChange } from '@gridstream/mongo';

/**
 * A read model: what it is called, the version of its evolve function, the topics it reads,
 * which document each event changes, and how. `evolve` is pure (Emmett's projection shape):
 * the runner owns positions, idempotency, batching and the MongoDB writes.
 */
export interface ProjectionDefinition<State extends Document> {
  readonly name: string;
  /** Bumped when `evolve` changes meaning; a rebuild then makes documents of the new version. */
  readonly version: number;
  readonly topics: readonly TopicRole[];
  /** The document an event changes; undefined when the event does not concern this projection. */
  readonly documentId: (event: GridstreamEvent) => string | undefined;
  readonly evolve: (state: State | null, event: GridstreamEvent) => State | null;
  /** Indexes of the document collection (on `state.*` paths). */
  readonly indexes?: readonly IndexDescription[];
  /**
   * Set where every event of a document carries the same Kafka key (its subject), so that
   * partition p of every topic holds documents of its own. A rebuild may then fold the
   * partitions in parts, each in a worker thread (one core each), which loads this definition
   * from `module`'s export `exportName`.
   */
  readonly parts?: { readonly module: string; readonly exportName: string };
  /**
   * The live service folds batches into documents held in memory and writes each changed one
   * once per checkpoint, checkpointing again as soon as the last is done (run-build.ts,
   * `writeBehind.live`): for a projection whose documents get many events a second, which
   * written one batch at a time kept FerretDB busy and fell behind. Needs `parts` (documents
   * follow the keys), so that a rebalance tells which documents this member may keep.
   */
  readonly liveWriteBehind?: {
    /**
     * Topics whose events alone may wait up to GS_PROJECTION_LAZY_WRITE_MS to be written: the
     * documents other events change are written at the next checkpoint, these with the next
     * whole write.
     */
    readonly lazyTopics?: readonly TopicRole[];
  };
}

/** A batch's events as changes of the documents they address; events of no document are left out. */
export function projectionChanges<State extends Document>(
  definition: ProjectionDefinition<State>,
  events: readonly PositionedEvent[],
): PositionedChange<GridstreamEvent>[] {
  const changes: PositionedChange<GridstreamEvent>[] = [];
  for (const { event, topic, partition, offset } of events) {
    const documentId = definition.documentId(event);
    if (documentId === undefined) continue;
    changes.push({ documentId, position: { topic, partition, offset }, input: event });
  }
  return changes;
}
