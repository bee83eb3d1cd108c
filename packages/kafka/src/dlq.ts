import { createHash, randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import type { IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { HandledOffset } from './consumer.ts';

/** Headers a dead letter carries besides the original ones. */
export const DlqHeader = {
  error: 'x-error',
  stage: 'x-error-stage',
  sourceTopic: 'x-source-topic',
  sourcePartition: 'x-source-partition',
  sourceOffset: 'x-source-offset',
  failedAt: 'x-failed-at',
  /** The consumer group that could not use the message: each group dead-letters it once. */
  consumerGroup: 'x-consumer-group',
  /** Present when the letter had to be cut to fit the topic: what was cut (`value`, `headers`, `key`). */
  truncated: 'x-truncated',
  /** The original value's size in bytes and SHA-256 (hex), on a truncated letter. */
  originalSize: 'x-original-size',
  originalSha256: 'x-original-sha256',
} as const;

/** Where in the pipeline a message was found unusable. */
export type DlqStage = 'decode' | 'process';

export interface DeadLetter {
  readonly message: KafkaMessage;
  readonly topic: string;
  readonly partition: number;
  readonly reason: string;
  readonly stage: DlqStage;
}

/** What a letter is sent as. */
export interface DeadLetterRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
}

/** Bytes a record takes besides its key, value and headers (record and batch framing), at most. */
const RECORD_OVERHEAD_BYTES = 512;
/** An original header value longer than this is cut when the headers alone would not fit. */
const MAX_KEPT_HEADER_BYTES = 256;
const MAX_KEY_BYTES = 1024;

function bytesOf(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value) : value;
}

function headerBytes(headers: IHeaders): number {
  let total = 0;
  for (const [name, value] of Object.entries(headers)) {
    const values = Array.isArray(value) ? value : [value];
    for (const single of values)
      total += Buffer.byteLength(name) + 8 + (bytesOf(single)?.length ?? 0);
  }
  return total;
}

/** The record's size as the limit counts it (key, value, headers, framing). */
export function deadLetterBytes(record: DeadLetterRecord): number {
  return (
    (record.key?.length ?? 0) +
    (record.value?.length ?? 0) +
    headerBytes(record.headers) +
    RECORD_OVERHEAD_BYTES
  );
}

/**
 * The original key, value and headers, plus headers that say why, where from and which group.
 * A letter that would be larger than `maxBytes` (the dlq topic's max.message.bytes) keeps its
 * reason and its source, and the original value's size and SHA-256; the value, and if need be
 * the original headers and key, are cut to fit. Without that, the DLQ write fails, the batch is
 * redone, and the consumer loops on the same letter for ever.
 */
export function deadLetterRecord(
  letter: DeadLetter,
  group: string,
  failedAt: Date,
  maxBytes: number,
): DeadLetterRecord {
  const ours: IHeaders = {
    [DlqHeader.error]: letter.reason.slice(0, 4000),
    [DlqHeader.stage]: letter.stage,
    [DlqHeader.sourceTopic]: letter.topic,
    [DlqHeader.sourcePartition]: String(letter.partition),
    [DlqHeader.sourceOffset]: letter.message.offset,
    [DlqHeader.failedAt]: failedAt.toISOString(),
    [DlqHeader.consumerGroup]: group,
  };
  let key = bytesOf(letter.message.key);
  const value = bytesOf(letter.message.value);
  let original: IHeaders = letter.message.headers ?? {};
  const whole = { key, value, headers: { ...original, ...ours } };
  if (deadLetterBytes(whole) <= maxBytes) return whole;

  const cut: string[] = [];
  const budget = maxBytes - RECORD_OVERHEAD_BYTES - headerBytes(ours) - 256;
  if (headerBytes(original) > budget / 2) {
    original = Object.fromEntries(
      Object.entries(original).map(([name, header]) => {
        const single = bytesOf(Array.isArray(header) ? header[0] : header);
        return [name, single === null ? undefined : single.subarray(0, MAX_KEPT_HEADER_BYTES)];
      }),
    );
    cut.push('headers');
  }
  if (key !== null && key.length > MAX_KEY_BYTES) {
    key = key.subarray(0, MAX_KEY_BYTES);
    cut.push('key');
  }
  const room = Math.max(0, budget - headerBytes(original) - (key?.length ?? 0));
  const headers: IHeaders = { ...original, ...ours };
  let keptValue = value;
  if (value !== null && value.length > room) {
    keptValue = value.subarray(0, room);
    cut.unshift('value');
    headers[DlqHeader.originalSize] = String(value.length);
    headers[DlqHeader.originalSha256] = createHash('sha256').update(value).digest('hex');
  }
  headers[DlqHeader.truncated] = cut.join(',');
  return { key, value: keptValue, headers };
}

/**
 * Splits records into requests of at most `maxBytes` each, in order, so that no partition's
 * record batch can exceed a topic's max.message.bytes. A record larger than that alone is
 * sent alone (the broker then says so; the caller cuts records first).
 */
export function chunkBySize<T>(
  records: readonly T[],
  sizeOf: (record: T) => number,
  maxBytes: number,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const record of records) {
    const bytes = sizeOf(record);
    if (current.length > 0 && currentBytes + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(record);
    currentBytes += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Writes one consumer group's dead letters. Letters and the offsets past them are committed in
 * one Kafka transaction, so a letter is in the DLQ exactly once per message and group: a crash
 * before the commit leaves neither (the batch comes again and is dead-lettered again, once), a
 * crash after it leaves both. Readers of the DLQ read committed records (kafkajs's default).
 * Transactions are one at a time per producer, so concurrent batches take turns.
 *
 * The writer also remembers the messages it has dead-lettered (the most recent
 * REMEMBERED_LETTERS), and writes none of them again: a batch redone in the same process after
 * its letters were written (its sink failed later, or the commit after the letters did, as the
 * fault suite saw when QuestDB or Kafka stopped right then) does not write them twice.
 */
/** How many dead-lettered messages a writer remembers, so as not to write them again. */
export const REMEMBERED_LETTERS = 10_000;

/** Tries of a dead-letter transaction the coordinator finds concurrent with another. */
const TRANSACTION_ATTEMPTS = 5;

const letterKey = (letter: DeadLetter) =>
  `${letter.topic}/${letter.partition}/${letter.message.offset}`;

export class DeadLetterWriter {
  readonly #kafka: Kafka;
  readonly #group: string;
  readonly #topic: string;
  readonly #maxBytes: () => Promise<number>;
  #producer: Promise<Producer> | undefined;
  #turn: Promise<void> = Promise.resolve();
  /** `topic/partition/offset` of the messages written, oldest first. */
  readonly #written = new Set<string>();
  /**
   * One per writer (a consumer instance: instances of a group must not fence each other), and
   * the same for each producer it makes. A transaction whose end the writer never heard of (a
   * node killed while it completed) stays open on the coordinator until it times out, and
   * read_committed readers of its partition (`dlq list`, the fault suite) see no letter after
   * it meanwhile; the next producer's InitProducerId with the same id makes the coordinator
   * settle it at once, committed or aborted.
   */
  readonly #transactionalId: string;

  constructor(kafka: Kafka, group: string, topic: string, maxBytes: () => Promise<number>) {
    this.#kafka = kafka;
    this.#group = group;
    this.#topic = topic;
    this.#maxBytes = maxBytes;
    this.#transactionalId = `${group}.dlq.${randomUUID()}`;
  }

  /**
   * Writes the letters and, when given, commits `offsets` for the group in the same
   * transaction. Resolves once both are durable.
   */
  write(letters: readonly DeadLetter[], offsets?: readonly HandledOffset[]): Promise<void> {
    const run = this.#turn.then(() => this.#writeRetrying(letters, offsets));
    this.#turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * A transaction the coordinator answers CONCURRENT_TRANSACTIONS (it is still completing an
   * earlier one, or loading its log on a fresh cluster: a CI run's first letters met it) is tried
   * again a few times, in a new transaction, before the failure reaches the consumer.
   */
  async #writeRetrying(
    letters: readonly DeadLetter[],
    offsets?: readonly HandledOffset[],
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#write(letters, offsets);
        return;
      } catch (error) {
        const type = (error as { type?: unknown }).type;
        if (type !== 'CONCURRENT_TRANSACTIONS' || attempt >= TRANSACTION_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  async #write(all: readonly DeadLetter[], offsets?: readonly HandledOffset[]): Promise<void> {
    const letters = all.filter((letter) => !this.#written.has(letterKey(letter)));
    if (letters.length === 0 && (offsets === undefined || offsets.length === 0)) return;
    const maxBytes = await this.#maxBytes();
    const now = new Date();
    const records = letters.map((letter) => deadLetterRecord(letter, this.#group, now, maxBytes));
    const producer = await this.#connected();
    const transaction = await producer.transaction();
    try {
      for (const chunk of chunkBySize(records, deadLetterBytes, maxBytes)) {
        await transaction.send({ topic: this.#topic, acks: -1, messages: chunk });
      }
      if (offsets !== undefined && offsets.length > 0) {
        await transaction.sendOffsets({
          consumerGroupId: this.#group,
          topics: offsets.map(({ topic, partition, offset }) => ({
            topic,
            partitions: [{ partition, offset }],
          })),
        });
      }
      await transaction.commit();
      for (const letter of letters) this.#remember(letterKey(letter));
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      // A producer whose transaction failed may be fenced or in a bad state: start afresh.
      await this.close();
      throw error;
    }
  }

  #remember(key: string): void {
    this.#written.add(key);
    if (this.#written.size > REMEMBERED_LETTERS) {
      const oldest = this.#written.values().next().value;
      if (oldest !== undefined) this.#written.delete(oldest);
    }
  }

  #connected(): Promise<Producer> {
    this.#producer ??= (async () => {
      const producer = this.#kafka.producer({
        allowAutoTopicCreation: false,
        // kafkajs 2's default, named so it does not warn of the switch from 1's
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionalId: this.#transactionalId,
      });
      await producer.connect();
      return producer;
    })();
    const pending = this.#producer;
    pending.catch(() => {
      if (this.#producer === pending) this.#producer = undefined;
    });
    return pending;
  }

  async close(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer !== undefined) await (await producer.catch(() => undefined))?.disconnect();
  }
}
