import type { Collection, Document, Filter } from 'mongodb';
import type { PositionedEvent } from '@gridstream/kafka';
import {
  foldDocument,
  groupByDocument,
  versionedWriteOperation,
  WriteConflictError,
  writeVersioned,
} from '@gridstream/mongo';
import type { FoldedDocument, StoredDocument } from '@gridstream/mongo';
import { projectionChanges } from './definition.ts';
import type { ProjectionDefinition } from './definition.ts';

/** Documents written per bulk write when the cache is flushed. */
const FLUSH_CHUNK = 1_000;

interface CachedDocument<State> {
  /** The document as MongoDB holds it (undefined: not written yet). */
  stored: StoredDocument<State> | undefined;
  /** The document as folded in memory; a new object whenever a fold changes it. */
  current: FoldedDocument<State>;
  /** The fold MongoDB holds (written or read): the document is clean while `current` is it. */
  written: FoldedDocument<State>;
  /** The partitions (numbers) of the events folded into it while cached. */
  partitions: number[];
  /** An event of a topic that is not lazy changed it since it was last written. */
  urgent: boolean;
}

/**
 * A build's documents held in memory between checkpoints: batches fold into them, and a
 * flush writes each changed document once, however many batches changed it. On FerretDB a
 * document write costs about a millisecond whatever it holds, so a rebuild that wrote every
 * document after every batch was bound by writes (docs/benchmarks.md), and so was a live
 * projection of many devices at 10,000 readings/s. Documents the cache has not seen are read
 * from the collection first, so a build resumed after a crash goes on from what its last flush
 * wrote; positions make an event applied twice change nothing.
 *
 * Each document has one writer: the rebuild, or the live member that holds its partition (the
 * caller drops, with `forget`, what a rebalance may have given to another). A document changed
 * by anyone else between two flushes is a WriteConflictError, and the build is run again from
 * its committed offsets.
 */
export class WriteBehindDocuments<State extends Document> {
  readonly #collection: Collection<StoredDocument<State>>;
  readonly #definition: ProjectionDefinition<State>;
  readonly #maxDocuments: number;
  readonly #lazy: (topic: string) => boolean;
  readonly #documents = new Map<string, CachedDocument<State>>();
  /** The flush under way: one at a time, in order. */
  #flushing: Promise<void> = Promise.resolve();
  /**
   * Whether the collection may hold documents this cache does not: unless it was empty at the
   * start, and until the cache forgets one it wrote. While not, a document new to the cache is
   * new, and is not looked for (a fresh rebuild's first batches read nothing).
   */
  #mayHoldUnseen: boolean;

  constructor(
    collection: Collection<StoredDocument<State>>,
    definition: ProjectionDefinition<State>,
    /** More documents than this held after a fold: they are written and the written forgotten. */
    maxDocuments: number,
    /** The collection is new, and nobody else writes it: a fresh build. */
    emptyAtStart = false,
    /**
     * Topics whose events alone do not make a document urgent: `flush('urgent')` leaves a
     * document they alone changed for the next whole flush.
     */
    lazy: (topic: string) => boolean = () => false,
  ) {
    this.#lazy = lazy;
    this.#collection = collection;
    this.#definition = definition;
    this.#maxDocuments = maxDocuments;
    this.#mayHoldUnseen = !emptyAtStart;
  }

  /** Folds a batch into the documents in memory; writes only to bound memory. */
  async fold(events: readonly PositionedEvent[]): Promise<void> {
    const byDocument = groupByDocument(projectionChanges(this.#definition, events));
    const missing = [...byDocument.keys()].filter((id) => !this.#documents.has(id));
    if (missing.length > 0) {
      const filter = { _id: { $in: missing } } as Filter<StoredDocument<State>>;
      const found = this.#mayHoldUnseen ? await this.#collection.find(filter).toArray() : [];
      const stored = new Map(found.map((d) => [d._id, d as StoredDocument<State>]));
      // Another batch may have loaded some of them while this one waited.
      for (const id of missing) {
        if (this.#documents.has(id)) continue;
        const document = stored.get(id);
        const current = {
          state: document?.state ?? null,
          positions: document?._meta.positions ?? [],
        };
        this.#documents.set(id, {
          stored: document,
          current,
          written: current,
          partitions: [],
          urgent: false,
        });
      }
    }
    // From here to the end nothing awaits: a batch folds as one step.
    for (const [id, changes] of byDocument) {
      const cached = this.#documents.get(id);
      if (cached === undefined) continue;
      const next = foldDocument(cached.current, changes, this.#definition.evolve);
      if (next === undefined) continue;
      cached.current = next;
      for (const { position } of changes) {
        if (!cached.partitions.includes(position.partition))
          cached.partitions.push(position.partition);
        if (!this.#lazy(position.topic)) cached.urgent = true;
      }
    }
    if (this.#documents.size > this.#maxDocuments) {
      await this.flush();
      for (const [id, cached] of this.#documents)
        if (cached.current === cached.written) {
          this.#documents.delete(id);
          this.#mayHoldUnseen = true;
        }
    }
  }

  /**
   * Drops every document that events of a partition `held` says no to were folded into, written
   * or not: this member no longer holds that partition, or did not hold it all along, so another
   * member may have moved the document on. What was folded and not written is lost here on
   * purpose: its offsets are not committed (the caller's checkpoint leaves them out), so the
   * partition's owner applies those events again. A dropped document is read again when needed.
   */
  forget(held: (partition: number) => boolean): number {
    let dropped = 0;
    for (const [id, cached] of this.#documents)
      if (!cached.partitions.every(held)) {
        this.#documents.delete(id);
        dropped++;
      }
    if (dropped > 0) this.#mayHoldUnseen = true;
    return dropped;
  }

  /**
   * Writes every document changed before the call (with 'urgent', only those an event of a
   * topic that is not lazy changed), once each, guarded by its version, after any flush under
   * way. Folds may go on meanwhile; what they change is written next time.
   */
  flush(which: 'all' | 'urgent' = 'all'): Promise<void> {
    const next = this.#flushing.then(() => this.#write(which));
    this.#flushing = next.catch(() => undefined);
    return next;
  }

  /** Writes these documents, if changed, after any flush under way (a traced batch's). */
  writeNow(ids: Iterable<string>): Promise<void> {
    const only = new Set(ids);
    const next = this.#flushing.then(() => this.#write('all', only));
    this.#flushing = next.catch(() => undefined);
    return next;
  }

  async #write(which: 'all' | 'urgent', only?: ReadonlySet<string>): Promise<void> {
    const pending: {
      id: string;
      cached: CachedDocument<State>;
      written: FoldedDocument<State>;
      urgent: boolean;
    }[] = [];
    for (const [id, cached] of this.#documents)
      if (
        cached.current !== cached.written &&
        (which === 'all' || cached.urgent) &&
        (only === undefined || only.has(id))
      ) {
        pending.push({ id, cached, written: cached.current, urgent: cached.urgent });
        // (a fold during the write makes it urgent again if it has to be)
        cached.urgent = false;
      }
    let start = 0;
    try {
      await this.#writeChunks(pending, (next) => (start = next));
    } catch (error) {
      // what was not written is as urgent as it was
      for (const entry of pending.slice(start)) entry.cached.urgent ||= entry.urgent;
      throw error;
    }
  }

  async #writeChunks(
    pending: readonly {
      id: string;
      cached: CachedDocument<State>;
      written: FoldedDocument<State>;
    }[],
    onWritten: (next: number) => void,
  ): Promise<void> {
    for (let start = 0; start < pending.length; start += FLUSH_CHUNK) {
      const chunk = pending.slice(start, start + FLUSH_CHUNK);
      const operations = chunk.map(({ id, cached, written }) =>
        versionedWriteOperation(id, cached.stored, written),
      );
      if (!(await writeVersioned(this.#collection, operations)))
        throw new WriteConflictError(this.#collection.collectionName, 1);
      for (const { id, cached, written } of chunk) {
        const version = (cached.stored?._meta.version ?? 0) + 1;
        cached.stored = {
          _id: id,
          state: written.state as State,
          _meta: { version, positions: written.positions },
        };
        cached.written = written;
      }
      onWritten(start + FLUSH_CHUNK);
    }
  }
}
