import { hostname, userInfo } from 'node:os';
import { Partitioners } from 'kafkajs';
import type { IHeaders, Kafka, KafkaMessage, Message, Transaction } from 'kafkajs';
import { CeHeader, decodeEvent, encodeEvent } from '@gridstream/events';
import { RedriveTargets } from './dead-letters-target.ts';
import { DlqHeader } from './dlq.ts';
import { scanTopicToEnd } from './read-to-end.ts';
import { listTopics, topicRoleOf } from './topics.ts';
import { readRecordText } from './record-text.ts';

/**
 * Headers a redriven record carries besides the original ones. A consumer group other than the
 * one named in `group` skips the record (runEventConsumer): the others have handled the original.
 */
export const RedriveHeader = {
  /** `<dlq topic>/<letter id>`: the letter the record was redriven from. */
  from: 'x-redriven-from',
  /** The only consumer group that handles the record; absent when every group does. */
  group: 'x-redrive-group',
  /** On a redrive record in the DLQ topic: the id of the letter it redrove. */
  of: 'x-dlq-redrive-of',
} as const;

/** Whether a consumer group skips a record: one redriven for another group only. */
export function redrivenForAnotherGroup(message: Pick<KafkaMessage, 'headers'>, group: string) {
  const target = message.headers?.[RedriveHeader.group];
  if (target === undefined) return false;
  const first = Array.isArray(target) ? target[0] : target;
  return first !== undefined && first.toString() !== group;
}

/** What was done with a letter: written beside it in the DLQ topic, in the same transaction. */
export interface RedriveRecord {
  /** The letter's id. */
  readonly letter: string;
  readonly at: string;
  readonly topic: string;
  readonly partition: number;
  /** The one group the record was redriven for; null for every group. */
  readonly group: string | null;
  /** Whether it was re-encoded as its event type's newest version (through the upcasters). */
  readonly upcast: boolean;
  /** Who redrove it: user@host. */
  readonly by: string;
}

/** One dead letter as the DLQ topic holds it, with what was done with it since. */
export interface StoredLetter {
  /** `<partition>-<offset>` in the DLQ topic: stable as long as the letter is retained. */
  readonly id: string;
  /** When the DLQ topic took it (its append time). */
  readonly dlqTime: string;
  readonly source: { readonly topic: string; readonly partition: number; readonly offset: string };
  readonly consumerGroup: string | undefined;
  readonly stage: string | undefined;
  readonly reason: string;
  readonly failedAt: string | undefined;
  /** What was cut to fit the DLQ topic (value, headers, key); empty when the letter is whole. */
  readonly truncated: readonly string[];
  readonly originalSize: number | undefined;
  readonly originalSha256: string | undefined;
  /** The original's CloudEvents tenant and type, when it had them. */
  readonly tenant: string | undefined;
  readonly type: string | undefined;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The original's headers (ours, that say why, left out). */
  readonly headers: Readonly<Record<string, readonly Buffer[]>>;
  /** Set once the letter has been redriven. */
  redrive: RedriveRecord | undefined;
  /**
   * Ids of other records in the DLQ topic that are this same letter (the same message
   * dead-lettered again by the same group: see letterIdentity), oldest first; usually none.
   */
  copies: string[];
}

/**
 * What makes two DLQ records one letter: the same message (source topic, partition, offset)
 * dead-lettered by the same group. The writer commits a letter with the offsets past it in one
 * transaction, but kafkajs cannot close every window (docs/events.md, "Once per message and
 * group"): a node killed while a transaction completes can have a group handle the message
 * again and write it a second time. Readers take such records as one letter with copies, so a
 * letter is listed, counted and redriven once.
 */
export function letterIdentity(letter: Pick<StoredLetter, 'source' | 'consumerGroup'>): string {
  const { topic, partition, offset } = letter.source;
  return `${letter.consumerGroup ?? ''}\u0000${topic}/${partition}/${offset}`;
}

const OUR_HEADERS: ReadonlySet<string> = new Set<string>(Object.values(DlqHeader));

function buffers(value: IHeaders[string]): Buffer[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) =>
    typeof v === 'string' ? Buffer.from(v) : v,
  );
}

function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  return buffers(headers?.[name])[0]?.toString();
}

const keyBuffer = (key: KafkaMessage['key']) => (key === null || key === undefined ? null : key);

/** A DLQ record read as a letter, or undefined for a redrive record (RedriveHeader.of). */
export function letterOf(message: KafkaMessage, partition: number): StoredLetter | undefined {
  const headers = message.headers ?? {};
  if (headers[RedriveHeader.of] !== undefined) return undefined;
  const original: Record<string, Buffer[]> = {};
  for (const [name, value] of Object.entries(headers))
    if (!OUR_HEADERS.has(name)) original[name] = buffers(value);
  const size = Number(headerText(headers, DlqHeader.originalSize));
  const truncated = headerText(headers, DlqHeader.truncated);
  const timestamp = Number(message.timestamp);
  return {
    id: `${partition}-${message.offset}`,
    dlqTime: new Date(Number.isFinite(timestamp) ? timestamp : 0).toISOString(),
    source: {
      topic: headerText(headers, DlqHeader.sourceTopic) ?? '',
      partition: Number(headerText(headers, DlqHeader.sourcePartition) ?? -1),
      offset: headerText(headers, DlqHeader.sourceOffset) ?? '',
    },
    consumerGroup: headerText(headers, DlqHeader.consumerGroup),
    stage: headerText(headers, DlqHeader.stage),
    reason: headerText(headers, DlqHeader.error) ?? '',
    failedAt: headerText(headers, DlqHeader.failedAt),
    truncated: truncated === undefined || truncated === '' ? [] : truncated.split(','),
    originalSize: Number.isSafeInteger(size) && size > 0 ? size : undefined,
    originalSha256: headerText(headers, DlqHeader.originalSha256),
    tenant: original[CeHeader.tenant]?.[0]?.toString(),
    type: original[CeHeader.type]?.[0]?.toString(),
    key: keyBuffer(message.key),
    value: message.value,
    headers: original,
    redrive: undefined,
    copies: [],
  };
}

/** A redrive record read back, or undefined for a letter (or a record that is not one). */
export function redriveOf(message: KafkaMessage): RedriveRecord | undefined {
  if (message.headers?.[RedriveHeader.of] === undefined || message.value === null) return;
  try {
    return JSON.parse(message.value.toString()) as RedriveRecord;
  } catch {
    return undefined;
  }
}

/** Bytes as text when they are UTF-8 without control characters besides white space, else base64. */
export function bytesForHumans(
  bytes: Buffer | null,
): { readonly text: string } | { readonly base64: string } | null {
  if (bytes === null) return null;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  // eslint-disable-next-line no-control-regex
  const plain = !text.includes('\uFFFD') && !/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(text);
  return plain ? { text } : { base64: bytes.toString('base64') };
}

/** A letter as JSON: what `dlq list --json`, `dlq show --json` and the API answer. */
export function letterJson(letter: StoredLetter) {
  return {
    id: letter.id,
    dlqTime: letter.dlqTime,
    source: { ...letter.source },
    consumerGroup: letter.consumerGroup ?? null,
    stage: letter.stage ?? null,
    reason: letter.reason,
    failedAt: letter.failedAt ?? null,
    tenant: letter.tenant ?? null,
    type: letter.type ?? null,
    truncated: [...letter.truncated],
    originalSize: letter.originalSize ?? null,
    originalSha256: letter.originalSha256 ?? null,
    headers: Object.fromEntries(
      Object.entries(letter.headers).map(([name, values]) => [
        name,
        values.map((v) => v.toString()),
      ]),
    ),
    key: bytesForHumans(letter.key),
    value: bytesForHumans(letter.value),
    redrive: letter.redrive ?? null,
    copies: [...letter.copies],
  };
}

/** Orders letter ids by partition, then offset (as numbers: `1-9` before `1-10`). */
function byPosition(a: string, b: string): number {
  const [pa = 0n, oa = 0n] = a.split('-').map(BigInt);
  const [pb = 0n, ob = 0n] = b.split('-').map(BigInt);
  return pa === pb ? Number(oa - ob) : Number(pa - pb);
}

/** Whether a record came into the DLQ before another (by append time, then position). */
function isEarlier(a: StoredLetter, b: StoredLetter | undefined): boolean {
  if (b === undefined) return true;
  return (a.dlqTime.localeCompare(b.dlqTime) || byPosition(a.id, b.id)) < 0;
}

/** Which letters a listing, a show or a redrive is about. Every field given must hold. */
export interface LetterFilter {
  readonly ids?: ReadonlySet<string>;
  /** The source topic, whole name or its role (`readings`: any prefix). */
  readonly sourceTopic?: string;
  readonly consumerGroup?: string;
  /** Text the reason contains (case-insensitive). */
  readonly reason?: string;
  readonly stage?: string;
  readonly tenant?: string;
  /** Failed at or after / before (the DLQ's append time). */
  readonly since?: Date;
  readonly until?: Date;
  /** Only letters redriven (true) or not yet (false). */
  readonly redriven?: boolean;
}

/** Whether a letter passes a filter (all but `redriven`, known only once the scan is done). */
export function matchesLetter(letter: StoredLetter, filter: LetterFilter): boolean {
  if (filter.ids !== undefined && !filter.ids.has(letter.id)) return false;
  if (
    filter.sourceTopic !== undefined &&
    letter.source.topic !== filter.sourceTopic &&
    topicRoleOf(letter.source.topic) !== filter.sourceTopic
  )
    return false;
  if (filter.consumerGroup !== undefined && letter.consumerGroup !== filter.consumerGroup)
    return false;
  if (
    filter.reason !== undefined &&
    !letter.reason.toLowerCase().includes(filter.reason.toLowerCase())
  )
    return false;
  if (filter.stage !== undefined && letter.stage !== filter.stage) return false;
  if (filter.tenant !== undefined && letter.tenant !== filter.tenant) return false;
  const time = Date.parse(letter.dlqTime);
  if (filter.since !== undefined && time < filter.since.getTime()) return false;
  if (filter.until !== undefined && time >= filter.until.getTime()) return false;
  return true;
}

export interface LetterScan {
  /** Matching letters, oldest first (by DLQ append time, then id). */
  readonly letters: StoredLetter[];
  /** Letters in the topic, matching or not. */
  readonly scanned: number;
  /** False when there is no DLQ topic (nothing was ever dead-lettered under this prefix). */
  readonly topicExists: boolean;
}

/**
 * Reads the DLQ topic to its end and returns the letters that pass the filter, each with its
 * redrive record if it has one. Only matching letters are kept, so memory follows the answer,
 * not the topic; `keepBytes: false` drops their key and value on the way (a listing).
 */
export async function findLetters(
  kafka: Kafka,
  dlqTopic: string,
  filter: LetterFilter = {},
  options: { keepBytes?: boolean; timeoutMs?: number } = {},
): Promise<LetterScan> {
  const admin = kafka.admin();
  await admin.connect();
  const topicExists = await listTopics(admin)
    .then((names) => names.includes(dlqTopic))
    .finally(() => admin.disconnect());
  if (!topicExists) return { letters: [], scanned: 0, topicExists };
  const kept = new Map<string, StoredLetter>();
  const redrives = new Map<string, RedriveRecord>();
  // Every record's id by its letter's identity (ids only, so memory stays small): a letter's
  // copies, and a redrive recorded against any one of them, are known once the scan is done.
  const idsOf = new Map<string, string[]>();
  let scanned = 0;
  await scanTopicToEnd(
    kafka,
    dlqTopic,
    (message, partition) => {
      const redrive = redriveOf(message);
      if (redrive !== undefined) {
        redrives.set(redrive.letter, redrive);
        return;
      }
      const letter = letterOf(message, partition);
      if (letter === undefined) return;
      scanned++;
      const identity = letterIdentity(letter);
      const ids = idsOf.get(identity);
      if (ids === undefined) idsOf.set(identity, [letter.id]);
      else ids.push(letter.id);
      if (!matchesLetter(letter, { ...filter, ids: undefined })) return;
      // By id, a copy's id names its letter too; the letter's first copy asked for stands for it.
      if (filter.ids !== undefined && !filter.ids.has(letter.id)) return;
      if (kept.has(identity) && !isEarlier(letter, kept.get(identity))) return;
      kept.set(
        identity,
        options.keepBytes === false ? { ...letter, key: null, value: null } : letter,
      );
    },
    options.timeoutMs ?? 120_000,
  );
  const letters: StoredLetter[] = [];
  for (const [identity, letter] of kept) {
    const ids = idsOf.get(identity) ?? [letter.id];
    letter.copies = ids.filter((id) => id !== letter.id).sort(byPosition);
    letter.redrive = ids.map((id) => redrives.get(id)).find((r) => r !== undefined);
    if (filter.redriven === undefined || filter.redriven === (letter.redrive !== undefined))
      letters.push(letter);
  }
  letters.sort((a, b) => a.dlqTime.localeCompare(b.dlqTime) || byPosition(a.id, b.id));
  return { letters, scanned, topicExists };
}

/** How a redrive was asked for. */
export interface RedriveRequest {
  /** Every consumer group (null), or only this one; by default the group that dead-lettered it. */
  readonly group?: string | null;
  /**
   * Put a letter back for a group that does not read its source topic (no committed offsets, no
   * member subscribed): refused otherwise, since no group would take the copy.
   */
  readonly force?: boolean;
  /** Re-encode the event as its type's newest version (through the upcasters) first. */
  readonly upcast?: boolean;
  /** Say what would be done, write nothing. */
  readonly dryRun?: boolean;
}

/** What happened to each letter a redrive was asked for. */
export interface RedriveOutcome {
  readonly redriven: RedriveRecord[];
  /** Letters left alone, each with why. */
  readonly refused: { readonly letter: string; readonly reason: string }[];
}

/** Letters redriven in one Kafka transaction at most. */
const REDRIVE_CHUNK = 200;

/**
 * Why a letter cannot be put back as it is, or undefined when it can. A letter cut to fit the
 * DLQ no longer holds what the producer sent, and one without its source has nowhere to go.
 */
function unredrivable(letter: StoredLetter, known: ReadonlySet<string>): string | undefined {
  if (letter.redrive !== undefined)
    return `already redriven at ${letter.redrive.at} by ${letter.redrive.by}`;
  if (letter.truncated.length > 0)
    return `its ${letter.truncated.join(' and ')} was cut to fit the DLQ (the original was ${letter.originalSize ?? '?'} bytes, sha256 ${letter.originalSha256 ?? '?'}): the original is gone`;
  if (!known.has(letter.source.topic))
    return `its source topic '${letter.source.topic}' is not one of this deployment's topics`;
  return undefined;
}

function redrivenMessage(
  letter: StoredLetter,
  dlqTopic: string,
  group: string | null,
  upcast: boolean,
): Message | string {
  const headers: IHeaders = {};
  for (const [name, values] of Object.entries(letter.headers))
    if (name !== RedriveHeader.group) headers[name] = values.length === 1 ? values[0] : [...values];
  let key: Buffer | string | null = letter.key;
  let value: Buffer | string | null = letter.value;
  if (upcast) {
    const decoded = decodeEvent(
      { key: letter.key, value: letter.value, headers: letter.headers as IHeaders },
      readRecordText,
    );
    if (!decoded.ok) return `cannot be upcast: ${decoded.reason}`;
    const encoded = encodeEvent(decoded.event);
    Object.assign(headers, encoded.headers);
    key = encoded.key;
    value = encoded.value;
  }
  headers[RedriveHeader.from] = `${dlqTopic}/${letter.id}`;
  if (group !== null) headers[RedriveHeader.group] = group;
  return { key, value, headers, partition: letter.source.partition };
}

/**
 * Puts letters back on their source topics: the original key, value and headers (or the event
 * re-encoded as its newest version), on the partition they came from, and beside each letter in
 * the DLQ topic a redrive record saying when, where, for which group and by whom. Each chunk of
 * records and their redrive records is one Kafka transaction, so a letter is either redriven
 * and recorded or neither, and a letter with a record is never redriven again.
 *
 * A letter goes back for one group only when that group reads its source topic (committed
 * offsets there, or a member subscribed now); else it is refused, unless `force`: every group
 * that reads the topic would skip the copy, and the letter, marked redriven, would be lost.
 *
 * The transactional id is the DLQ topic's own, so two redrives at once cannot both put the same
 * letter back: the later one's first transaction fences the earlier (whose writes then fail), and
 * it reads the DLQ only after that, so it sees every redrive record the earlier one committed.
 */
export async function redriveLetters(
  kafka: Kafka,
  topics: { readonly dlq: string; readonly sources: ReadonlySet<string> },
  filter: LetterFilter,
  request: RedriveRequest = {},
): Promise<RedriveOutcome> {
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    // kafkajs 2's default, named so it does not warn of the switch from 1's
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionalId: `${topics.dlq}.redrive`,
  });
  const dryRun = request.dryRun === true;
  if (!dryRun) await producer.connect();
  // The first transaction begins before the DLQ is read: kafkajs takes the transactional id's
  // epoch when a producer's first transaction begins (not at connect), and that is what fences a
  // redrive that began earlier and waits for its commit to complete. Begun after the read, two
  // redrives at once both read the DLQ before either wrote, and both committed (a CI run saw
  // each letter put back twice).
  let transaction: Transaction | undefined = dryRun ? undefined : await producer.transaction();
  const targets = new RedriveTargets(kafka, topics.dlq.replace(/dlq$/, ''));
  try {
    const { letters } = await findLetters(kafka, topics.dlq, { ...filter, redriven: undefined });
    const redriven: RedriveRecord[] = [];
    const refused: { letter: string; reason: string }[] = [];
    const planned: { letter: StoredLetter; message: Message; record: RedriveRecord }[] = [];
    const at = new Date().toISOString();
    const by = `${userInfo().username}@${hostname()}`;
    for (const letter of letters) {
      const why = unredrivable(letter, topics.sources);
      if (why !== undefined) {
        refused.push({ letter: letter.id, reason: why });
        continue;
      }
      const group = request.group === undefined ? (letter.consumerGroup ?? null) : request.group;
      // A copy for a group that is gone is skipped by every group: the letter would be lost.
      const absent =
        group === null || request.force === true
          ? undefined
          : await targets.refusal(group, letter.source.topic);
      if (absent !== undefined) {
        refused.push({ letter: letter.id, reason: absent });
        continue;
      }
      const message = redrivenMessage(letter, topics.dlq, group, request.upcast === true);
      if (typeof message === 'string') {
        refused.push({ letter: letter.id, reason: message });
        continue;
      }
      const record: RedriveRecord = {
        letter: letter.id,
        at,
        topic: letter.source.topic,
        partition: letter.source.partition,
        group,
        upcast: request.upcast === true,
        by,
      };
      planned.push({ letter, message, record });
    }
    if (dryRun) return { redriven: planned.map((p) => p.record), refused };
    for (let start = 0; start < planned.length; start += REDRIVE_CHUNK) {
      const chunk = planned.slice(start, start + REDRIVE_CHUNK);
      const current = (transaction ??= await producer.transaction());
      try {
        const bySource = new Map<string, Message[]>();
        for (const { letter, message } of chunk) {
          const list = bySource.get(letter.source.topic) ?? [];
          list.push(message);
          bySource.set(letter.source.topic, list);
        }
        for (const [topic, messages] of bySource) await current.send({ topic, acks: -1, messages });
        await current.send({
          topic: topics.dlq,
          acks: -1,
          messages: chunk.map(({ letter, record }) => ({
            key: `redrive/${letter.id}`,
            value: JSON.stringify(record),
            headers: { [RedriveHeader.of]: letter.id },
            partition: Number(letter.id.split('-')[0]),
          })),
        });
        transaction = undefined;
        await current.commit();
      } catch (error) {
        await current.abort().catch(() => undefined);
        throw error;
      }
      redriven.push(...chunk.map((p) => p.record));
    }
    return { redriven, refused };
  } finally {
    // A transaction nothing was sent in ends without a word to the broker (kafkajs).
    await transaction?.abort().catch(() => undefined);
    await targets.close().catch(() => undefined);
    if (!dryRun) await producer.disconnect();
  }
}
