import { setTimeout as sleep } from 'node:timers/promises';
import { fetchEndOffsets } from '@gridstream/kafka';
import type { createKafka } from '@gridstream/kafka';

type Kafka = ReturnType<typeof createKafka>;

export interface CatchUpOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Gives up waiting after this long (a group that cannot consume must not stop the timers). */
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly stopped: () => boolean;
}

/**
 * Resolves once the consumer group has committed, on every partition of `topics`, at least the
 * end offset the partition had when this was called: everything on the topics then (device
 * acknowledgements, cancellations) has been applied. True when caught up, false when it gave up.
 * Offsets are the group's, so it does not matter which member consumes a partition.
 */
export async function waitForGroupCatchUp(options: CatchUpOptions): Promise<boolean> {
  const admin = options.kafka.admin();
  await admin.connect();
  try {
    const targets = new Map<string, number>();
    const key = (topic: string, partition: number): string => `${topic}/${partition}`;
    for (const topic of options.topics)
      for (const p of await fetchEndOffsets(admin, topic))
        if (Number(p.high) > Number(p.low)) targets.set(key(topic, p.partition), Number(p.high));
    const deadline = Date.now() + options.timeoutMs;
    while (!options.stopped()) {
      const committed = await admin.fetchOffsets({
        groupId: options.groupId,
        topics: [...options.topics],
      });
      const done = new Map(
        committed.flatMap(({ topic, partitions }) =>
          partitions.map((p) => [key(topic, p.partition), Number(p.offset)] as const),
        ),
      );
      if ([...targets].every(([at, high]) => (done.get(at) ?? -1) >= high)) return true;
      if (Date.now() > deadline) return false;
      await sleep(options.pollMs);
    }
    return false;
  } finally {
    await admin.disconnect();
  }
}
