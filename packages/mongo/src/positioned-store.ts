import type { Collection, Document, Filter, AnyBulkWriteOperation } from 'mongodb';

/** Where an event sits in the log; within one topic-partition, offsets only grow. */
export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * What gridstream keeps beside every read-model document: the last applied offset of each
 * topic-partition that fed it (so an event already applied changes nothing) and a version
 * for optimistic concurrency (so two writers never overwrite each other silently).
 */
export interface DocumentMeta {
  readonly version: number;
  /** An array, not a map keyed by topic: topic names contain dots, which FerretDB refuses in keys. */
  readonly positions: readonly LogPosition[];
}

export interface StoredDocument<State> {
  readonly _id: string;
  readonly state: State;
  readonly _meta: DocumentMeta;
}

/**
 * Where `positions` holds the position of `position`'s partition, or -1. A loop, not findIndex:
 * no closure per event in a rebuild's million.
 */
function partitionIndex(positions: readonly LogPosition[], position: LogPosition): number {
  const { topic, partition } = position;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i];
    if (p !== undefined && p.partition === partition && p.topic === topic) return i;
  }
  return -1;
}

export function isApplied(positions: readonly LogPosition[], position: LogPosition): boolean {
  const at = partitionIndex(positions, position);
  const last = at === -1 ? undefined : positions[at];
  return last !== undefined && offsetAtMost(position.offset, last.offset);
}

/**
 * a <= b for Kafka offsets written as decimal integers without leading zeros (as kafkajs gives
 * them and positions store them): the shorter is the smaller, and of equal length the text
 * order is the numeric order. Exact beyond 2^53, and without the two BigInts a comparison cost
 * on every event of a rebuild.
 */
export function offsetAtMost(a: string, b: string): boolean {
  return a.length === b.length ? a <= b : a.length < b.length;
}

export interface PositionedChange<Input> {
  readonly documentId: string;
  readonly position: LogPosition;
  readonly input: Input;
}

/** Folds one input into a document's state; `null` state means the document does not exist yet. */
export type Fold<State, Input> = (state: State | null, input: Input) => State | null;

export class WriteConflictError extends Error {
  readonly retriable = true;
  constructor(collection: string, attempts: number) {
    super(
      `${collection}: documents kept changing under a concurrent writer (${attempts} attempts)`,
    );
    this.name = 'WriteConflictError';
  }
}

/**
 * Applies a batch of positioned inputs to the documents they address: one read of all those
 * documents, a pure fold in memory, one bulk write guarded by each document's version.
 * Inputs at or below a document's recorded position are skipped, so re-delivery after a crash
 * changes nothing. If another writer got there first (a consumer-group rebalance), the batch is
 * re-read and re-folded; positions make that safe.
 */
export async function applyPositionedBatch<State extends Document, Input>(
  collection: Collection<StoredDocument<State>>,
  changes: readonly PositionedChange<Input>[],
  fold: Fold<State, Input>,
  maxAttempts = 10,
): Promise<void> {
  if (changes.length === 0) return;
  const byDocument = groupByDocument(changes);
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const ids = [...byDocument.keys()];
    const filter = { _id: { $in: ids } } as Filter<StoredDocument<State>>;
    const existing = new Map(
      (await collection.find(filter).toArray()).map((d) => [d._id, d as StoredDocument<State>]),
    );
    const operations: AnyBulkWriteOperation<StoredDocument<State>>[] = [];
    for (const [id, list] of byDocument) {
      const before = existing.get(id);
      const next = foldDocument(
        before && { state: before.state, positions: before._meta.positions },
        list,
        fold,
      );
      if (next === undefined) continue;
      operations.push(versionedWriteOperation(id, before, next));
    }
    if (operations.length === 0) return;
    if (await writeVersioned(collection, operations)) return;
  }
  throw new WriteConflictError(collection.collectionName, maxAttempts);
}

/** A document's state after a fold, with the positions it has now applied. */
export interface FoldedDocument<State> {
  readonly state: State | null;
  readonly positions: readonly LogPosition[];
}

/**
 * Folds a document's changes into its state, skipping each change at or below the position the
 * document has applied for that change's partition. Undefined when nothing changed (pure).
 */
export function foldDocument<State, Input>(
  before: FoldedDocument<State> | undefined,
  changes: readonly PositionedChange<Input>[],
  fold: Fold<State, Input>,
): FoldedDocument<State> | undefined {
  let state: State | null = before?.state ?? null;
  const applied: readonly LogPosition[] = before?.positions ?? [];
  // Copied at the first change, then updated in place: `before` stays as it was.
  let positions: LogPosition[] | undefined;
  for (const change of changes) {
    const current = positions ?? applied;
    const at = partitionIndex(current, change.position);
    const last = at === -1 ? undefined : current[at];
    if (last !== undefined && offsetAtMost(change.position.offset, last.offset)) continue;
    state = fold(state, change.input);
    positions ??= [...applied];
    // (the change's position is the document's from now on; neither is ever changed)
    if (at === -1) positions.push(change.position);
    else positions[at] = change.position;
  }
  return positions === undefined ? undefined : { state, positions };
}

/**
 * The write of a document's next state and positions, guarded by its version: it matches
 * nothing if another writer changed (or created) the document since `before` was read.
 */
export function versionedWriteOperation<State extends Document>(
  id: string,
  before: StoredDocument<State> | undefined,
  next: FoldedDocument<State>,
): AnyBulkWriteOperation<StoredDocument<State>> {
  const version = (before?._meta.version ?? 0) + 1;
  const replacement = { state: next.state, _meta: { version, positions: next.positions } };
  if (before === undefined) {
    // A document nobody wrote yet is inserted: if another writer created it meanwhile, the
    // insert fails on the duplicate key, which the caller treats as a conflict and retries.
    // (An insert is also several times cheaper than an upsert on FerretDB: docs/benchmarks.md.)
    return { insertOne: { document: { _id: id, ...replacement } as never } };
  }
  return {
    replaceOne: {
      filter: { _id: id, '_meta.version': before._meta.version },
      replacement: { _id: id, ...replacement } as StoredDocument<State>,
    },
  };
}

/**
 * One unordered bulk write of versionedWriteOperation()s. False when another writer changed or
 * created a document since it was read (a replace matched nothing, an insert hit its key): the
 * caller re-reads and re-folds, or gives up.
 */
export async function writeVersioned<State extends Document>(
  collection: Collection<StoredDocument<State>>,
  operations: readonly AnyBulkWriteOperation<StoredDocument<State>>[],
): Promise<boolean> {
  if (operations.length === 0) return true;
  const result = await collection
    .bulkWrite([...operations], { ordered: false })
    .catch((error: unknown) => {
      if (isDuplicateKey(error)) return undefined;
      throw error;
    });
  return (
    result !== undefined &&
    result.insertedCount + result.matchedCount + result.upsertedCount === operations.length
  );
}

/** The changes of each document, in the order given. */
export function groupByDocument<Input>(
  changes: readonly PositionedChange<Input>[],
): Map<string, PositionedChange<Input>[]> {
  const byDocument = new Map<string, PositionedChange<Input>[]>();
  for (const change of changes) {
    let list = byDocument.get(change.documentId);
    if (list === undefined) byDocument.set(change.documentId, (list = []));
    list.push(change);
  }
  return byDocument;
}

function isDuplicateKey(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
  );
}
