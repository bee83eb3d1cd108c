import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';

/** Headers a dead letter carries besides the original ones. */
export const DlqHeader = {
  error: 'x-error',
  stage: 'x-error-stage',
  sourceTopic: 'x-source-topic',
  sourcePartition: 'x-source-partition',
  sourceOffset: 'x-source-offset',
  failedAt: 'x-failed-at',
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

/** The original key, value and headers, plus headers that say why and where from. */
export function deadLetterRecord(letter: DeadLetter, failedAt: Date) {
  const headers: IHeaders = {
    ...letter.message.headers,
    [DlqHeader.error]: letter.reason.slice(0, 4000),
    [DlqHeader.stage]: letter.stage,
    [DlqHeader.sourceTopic]: letter.topic,
    [DlqHeader.sourcePartition]: String(letter.partition),
    [DlqHeader.sourceOffset]: letter.message.offset,
    [DlqHeader.failedAt]: failedAt.toISOString(),
  };
  return { key: letter.message.key, value: letter.message.value, headers };
}

export async function sendToDlq(
  producer: Producer,
  dlqTopic: string,
  letters: readonly DeadLetter[],
): Promise<void> {
  if (letters.length === 0) return;
  const now = new Date();
  await producer.send({
    topic: dlqTopic,
    acks: -1,
    messages: letters.map((l) => deadLetterRecord(l, now)),
  });
}
