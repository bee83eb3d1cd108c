import type { Kafka } from 'kafkajs';
import { letterIdentity, letterOf, redriveOf } from './dead-letters.ts';
import type { RedriveRecord, StoredLetter } from './dead-letters.ts';
import { scanTopicToEnd } from './read-to-end.ts';
import { listTopics } from './topics.ts';

/**
 * One letter by its id, with its redrive record if it has one, or undefined when the DLQ holds
 * no letter there (never one, deleted by retention, a redrive record, a transaction marker). The
 * id is the letter's partition and offset, so only that partition is read, from the letter on:
 * its redrive record, if any, was written after it on the same partition (redriveLetters), and
 * nothing tells where. A letter far back in a busy partition still reads the rest of it. Copies
 * of the letter (letterIdentity) found after it there are named in `copies`, and a redrive
 * recorded against one of them counts; copies before it, or on other partitions (a letter
 * without a key), are seen by findLetters only.
 */
export async function findLetterById(
  kafka: Kafka,
  dlqTopic: string,
  id: string,
  timeoutMs = 30_000,
): Promise<StoredLetter | undefined> {
  const position = /^(\d+)-(\d+)$/.exec(id);
  if (position === null) return undefined;
  const partition = Number(position[1]);
  const offset = BigInt(position[2] ?? '');
  const canonicalId = `${partition}-${offset}`; // '1-007' is '1-7'
  const admin = kafka.admin();
  await admin.connect();
  // (asked first: kafkajs retries offsets of a missing topic as if it were still being made)
  const topicExists = await listTopics(admin)
    .then((names) => names.includes(dlqTopic))
    .finally(() => admin.disconnect());
  if (!topicExists) return undefined;
  let letter: StoredLetter | undefined;
  let redrive: RedriveRecord | undefined;
  const ids = new Set<string>([canonicalId]);
  const copies: string[] = [];
  await scanTopicToEnd(
    kafka,
    dlqTopic,
    (message, at) => {
      if (letter === undefined) {
        if (BigInt(message.offset) === offset) letter = letterOf(message, at);
        return;
      }
      const record = redriveOf(message);
      if (record !== undefined) {
        if (ids.has(record.letter)) redrive ??= record;
        return;
      }
      const other = letterOf(message, at);
      if (other !== undefined && letterIdentity(other) === letterIdentity(letter)) {
        ids.add(other.id);
        copies.push(other.id);
      }
    },
    timeoutMs,
    { partition, offset },
  );
  if (letter !== undefined) {
    letter.redrive = redrive;
    letter.copies = copies;
  }
  return letter;
}
