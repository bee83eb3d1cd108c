import { Worker } from 'node:worker_threads';
import { GridstreamError, isRetriable } from '@gridstream/errors';
import type { EventPublisher, KafkaSettings } from '@gridstream/kafka';
import type { MongoConfig } from '@gridstream/mongo';
import type { TraceHeaders } from '@gridstream/telemetry';
import { batchFingerprint, keyedReadingId } from './keyed-batch.ts';
import { readingEvents, readReadingBatch } from './reading-batch.ts';
import type { BodyIssue } from './reading-batch.ts';
import type { ReadingKeyStore } from './reading-keys.ts';

/** Why a keyed batch is not taken: its key is another batch's, or its twin is publishing it. */
export type KeyConflict = 'idempotency-key-reused' | 'idempotency-key-in-progress';

/** What became of one POST /v1/readings body. */
export type IngestOutcome =
  | {
      readonly ok: true;
      readonly ids: readonly string[];
      /** True when its Idempotency-Key had published it before: nothing was published now. */
      readonly replayed: boolean;
    }
  | { readonly ok: false; readonly message?: string; readonly issues: readonly BodyIssue[] }
  | { readonly ok: false; readonly keyConflict: KeyConflict };

/**
 * Where POST /v1/readings hands its body: parsed, checked, turned into events and published
 * (acks=-1) in an ingest worker thread, or in the API's own thread when there is none.
 */
export interface ReadingIngest {
  /**
   * Resolves once Kafka has every reading of the body (or with why the body is invalid); rejects
   * with a retriable error when Kafka cannot take them now. With `trace` (the request's ingest
   * span, tracing on) every published record carries it as its CloudEvents traceparent.
   */
  submit(
    tenant: string,
    body: Uint8Array,
    idempotencyKey?: string,
    trace?: TraceHeaders,
  ): Promise<IngestOutcome>;
  close(): Promise<void>;
}

/** What ingest publishes with, and where it keeps Idempotency-Keys (none: a keyed body fails). */
export interface IngestPorts {
  readonly publisher: EventPublisher;
  /** The id of a reading of an unkeyed batch that has none (UUIDv7 in production). */
  readonly newEventId: () => string;
  readonly keys?: ReadingKeyStore | undefined;
}

/**
 * One body: parsed and checked; without a key published with new ids; with one, its ids follow
 * from the tenant, the key and the batch, and it is published only by the request that claims
 * the key (keyed-batch.ts, reading-keys.ts).
 */
export async function ingest(
  ports: IngestPorts,
  tenant: string,
  body: Uint8Array,
  idempotencyKey?: string,
  trace?: TraceHeaders,
): Promise<IngestOutcome> {
  const read = readReadingBatch(body);
  if (!read.ok) return read;
  const { publisher, keys } = ports;
  if (idempotencyKey === undefined) {
    const events = readingEvents(read.readings, tenant, () => ports.newEventId());
    await publisher.publish(events, trace);
    return { ok: true, ids: events.map((e) => e.id), replayed: false };
  }
  if (keys === undefined) throw new Error('this ingest has no Idempotency-Key store');
  const fingerprint = batchFingerprint(read.readings);
  const events = readingEvents(read.readings, tenant, (index) =>
    keyedReadingId(tenant, idempotencyKey, fingerprint, index),
  );
  const ids = events.map((e) => e.id);
  const claim = await keys.claim(tenant, idempotencyKey, fingerprint, events.length);
  if (claim.kind === 'replay') return { ok: true, ids, replayed: true };
  if (claim.kind === 'reused') return { ok: false, keyConflict: 'idempotency-key-reused' };
  if (claim.kind === 'in-progress')
    return { ok: false, keyConflict: 'idempotency-key-in-progress' };
  try {
    await publisher.publish(events, trace);
  } catch (error) {
    // A retry of the same batch may take the key over at once; if this fails too, the claim
    // runs out by itself.
    await keys.release(tenant, idempotencyKey).catch(() => undefined);
    throw error;
  }
  await keys.markPublished(tenant, idempotencyKey);
  return { ok: true, ids, replayed: false };
}

/** Ingest in the calling thread (GS_API_INGEST_WORKERS=0). */
export function inlineIngest(ports: IngestPorts): ReadingIngest {
  return {
    submit: (tenant, body, idempotencyKey, trace) =>
      ingest(ports, tenant, body, idempotencyKey, trace),
    close: async () => undefined,
  };
}

/** What an ingest worker thread is started with. */
export interface IngestWorkerData {
  readonly kafka: KafkaSettings;
  readonly topicPrefix: string;
  /** Where the worker keeps Idempotency-Keys; without it a keyed body fails. */
  readonly mongo?: MongoConfig | undefined;
}

export type ToWorker = {
  readonly id: number;
  readonly tenant: string;
  readonly body: Uint8Array;
  readonly idempotencyKey?: string | undefined;
  /** The ingest span's context: the SDK runs in the API's thread, the worker only carries it. */
  readonly trace?: TraceHeaders | undefined;
};
export type FromWorker =
  | { readonly kind: 'ready' }
  | { readonly kind: 'start-failed'; readonly message: string; readonly retriable: boolean }
  | { readonly kind: 'done'; readonly id: number; readonly outcome: IngestOutcome }
  | {
      readonly kind: 'failed';
      readonly id: number;
      readonly message: string;
      readonly retriable: boolean;
    };

/** The worker side: one message per body, answered when Kafka has it. Runs in ingest-worker.ts. */
export function serveIngest(
  port: { postMessage(message: FromWorker): void },
  ports: IngestPorts,
): (message: ToWorker) => void {
  return ({ id, tenant, body, idempotencyKey, trace }) => {
    ingest(ports, tenant, body, idempotencyKey, trace).then(
      (outcome) => {
        port.postMessage({ kind: 'done', id, outcome });
      },
      (error: unknown) => {
        port.postMessage({
          kind: 'failed',
          id,
          message: error instanceof Error ? error.message : String(error),
          retriable: isRetriable(error),
        });
      },
    );
  };
}

interface Pending {
  resolve(outcome: IngestOutcome): void;
  reject(error: Error): void;
}

interface Slot {
  /** The running worker; undefined while it is (re)starting. */
  worker: Worker | undefined;
  readonly pending: Map<number, Pending>;
}

const WORKER_ENTRY = new URL('./ingest-worker.ts', import.meta.url);
const RESTART_DELAY_MS = 1_000;

const unavailable = (message: string) => new GridstreamError('DEPENDENCY_UNAVAILABLE', message);

async function stopWorker(worker: Worker): Promise<void> {
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.postMessage('stop');
  await exited;
}

/**
 * Ingest in `count` worker threads, each with a Kafka producer of its own: the JSON parse, the
 * validation and the Kafka encoding of a batch (about 20 µs a reading) leave the API's event
 * loop, so queries are not queued behind batches, and ingest can use another core. A body goes
 * to the running worker with the fewest in flight. A worker that dies fails its bodies with a
 * retriable error (503: nothing of theirs is acknowledged) and is started again, every second
 * until it starts; with no worker running, bodies are answered 503 at once.
 */
export async function startIngestWorkers(
  count: number,
  data: IngestWorkerData,
  log: (line: string) => void,
  /** The worker's module; tests swap in one that misbehaves. */
  entry: URL = WORKER_ENTRY,
): Promise<ReadingIngest> {
  let closing = false;
  let nextId = 0;
  const slots: Slot[] = Array.from({ length: count }, () => ({
    worker: undefined,
    pending: new Map(),
  }));

  /** Starts the slot's worker; resolves once it is ready, rejects if it cannot start. */
  const start = (slot: Slot): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(entry, { workerData: data });
      let started = false;
      worker.on('message', (message: FromWorker) => {
        if (message.kind === 'ready') {
          started = true;
          if (closing) void stopWorker(worker);
          else slot.worker = worker;
          resolve();
        } else if (message.kind === 'start-failed') {
          reject(
            message.retriable
              ? unavailable(message.message)
              : new Error(`an ingest worker could not start: ${message.message}`),
          );
        } else {
          const pending = slot.pending.get(message.id);
          slot.pending.delete(message.id);
          if (message.kind === 'done') pending?.resolve(message.outcome);
          else
            pending?.reject(
              message.retriable ? unavailable(message.message) : new Error(message.message),
            );
        }
      });
      worker.on('error', (error: Error) => {
        log(`gridstream: API ingest worker failed: ${error.stack ?? error.message}`);
      });
      worker.on('exit', (code) => {
        if (!started) {
          reject(new Error(`an ingest worker exited (code ${code}) while starting`));
          return;
        }
        if (slot.worker === worker) slot.worker = undefined;
        const lost = [...slot.pending.values()];
        slot.pending.clear();
        for (const pending of lost)
          pending.reject(
            unavailable(
              'the ingest worker stopped before Kafka confirmed the batch; send it again',
            ),
          );
        if (closing) return;
        log(`gridstream: API ingest worker exited (code ${code}); starting another`);
        restart(slot);
      });
    });

  const restart = (slot: Slot) => {
    setTimeout(() => {
      if (closing) return;
      start(slot).catch((error: unknown) => {
        log(`gridstream: API ingest worker could not start again (${String(error)}); retrying`);
        restart(slot);
      });
    }, RESTART_DELAY_MS).unref();
  };

  const stopAll = async () => {
    closing = true;
    await Promise.all(
      slots.flatMap(({ worker }) => (worker === undefined ? [] : [stopWorker(worker)])),
    );
  };

  const starts = await Promise.allSettled(slots.map(start));
  const failed = starts.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await stopAll();
    throw failed.reason;
  }
  return {
    submit(tenant, body, idempotencyKey, trace) {
      let chosen: { slot: Slot; worker: Worker } | undefined;
      for (const slot of slots)
        if (
          slot.worker !== undefined &&
          (chosen === undefined || slot.pending.size < chosen.slot.pending.size)
        )
          chosen = { slot, worker: slot.worker };
      if (chosen === undefined)
        return Promise.reject(unavailable('no ingest worker is running; send the batch again'));
      const { slot, worker } = chosen;
      const id = ++nextId;
      return new Promise<IngestOutcome>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        worker.postMessage({ id, tenant, body, idempotencyKey, trace } satisfies ToWorker);
      });
    },
    close: stopAll,
  };
}
