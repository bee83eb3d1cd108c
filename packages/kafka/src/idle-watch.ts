import type { Admin } from 'kafkajs';

/** The partitions a member holds, by topic (as consumer.ts's Assignment). */
type Held = ReadonlyMap<string, ReadonlySet<number>>;

/** Per topic and partition, an offset. */
export type OffsetsByPartition = ReadonlyMap<string, ReadonlyMap<number, number>>;

/** A partition a member holds whose log has messages past where the member is. */
export interface WaitingPartition {
  readonly topic: string;
  readonly partition: number;
  /** Where the member is: the furthest of its group's commit, what it handled, the log's start. */
  readonly position: number;
  /** The partition's end as a read_committed reader sees it (its last stable offset). */
  readonly end: number;
}

/** A partition's log, as ListOffsets answers: its first offset and its end. */
export interface LogRange {
  readonly partition: number;
  readonly low: number;
  readonly high: number;
}

/**
 * The held partitions with messages waiting: those whose end is past the member's position,
 * the furthest of the group's commit, the offset after the last batch this member handled (a
 * rebuild commits behind what it handled) and the start of the log (what retention deleted is
 * not waiting). A partition with neither a commit nor a batch handled starts at the start of its
 * log when the consumer reads from the beginning; one that starts at the end (`fromBeginning:
 * false`) began
 * wherever the end was when it joined, which only kafkajs knows, so it is not judged.
 */
export function waitingPartitions(
  held: Held,
  ends: ReadonlyMap<string, readonly LogRange[]>,
  committed: OffsetsByPartition,
  handled: OffsetsByPartition,
  fromBeginning = true,
): WaitingPartition[] {
  const waiting: WaitingPartition[] = [];
  for (const [topic, partitions] of held) {
    for (const { partition, low, high } of ends.get(topic) ?? []) {
      if (!partitions.has(partition)) continue;
      const known = Math.max(
        committed.get(topic)?.get(partition) ?? -1,
        handled.get(topic)?.get(partition) ?? -1,
      );
      if (known < 0 && !fromBeginning) continue;
      const position = Math.max(known, low);
      if (high > position) waiting.push({ topic, partition, position, end: high });
    }
  }
  return waiting;
}

/** Asks Kafka which of the held partitions have messages waiting for the group's member. */
export async function askWaiting(
  admin: Admin,
  groupId: string,
  held: Held,
  handled: OffsetsByPartition,
  fromBeginning: boolean,
): Promise<WaitingPartition[]> {
  const topics = [...held.keys()];
  const committed = new Map<string, Map<number, number>>();
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
    committed.set(topic, new Map(partitions.map((p) => [p.partition, Number(p.offset)])));
  }
  const ends = new Map<string, LogRange[]>();
  for (const topic of topics) {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends.set(
      topic,
      offsets.map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) })),
    );
  }
  return waitingPartitions(held, ends, committed, handled, fromBeginning);
}

/** A member found idle with messages waiting. */
export interface IdleConsumer {
  /** Since the member last handed a batch over (or joined its group). */
  readonly idleMs: number;
  readonly waiting: readonly WaitingPartition[];
}

export interface IdleWatchOptions {
  /** How long the member may hand nothing over while messages wait before it counts as stuck. */
  readonly maxIdleMs: number;
  /** The partitions the member holds now. */
  readonly held: () => Held;
  /** Which held partitions have messages waiting; throws when Kafka cannot say. */
  readonly waiting: (held: Held, handled: OffsetsByPartition) => Promise<WaitingPartition[]>;
  /** Called once per maxIdleMs of idleness; the watch then counts afresh. */
  readonly onIdle: (idle: IdleConsumer) => void;
  /**
   * How long a rejoin of the group counts as activity (default five times maxIdleMs). A JoinGroup
   * waits for every member to rejoin, up to the group's rebalance timeout (kafkajs: 60 s), and
   * kafkajs tries a join again while the coordinator loads or moves; a join longer than this is
   * judged as any other idleness.
   */
  readonly maxJoinMs?: number;
}

/**
 * Watches a consumer for the failure no error reports: a member that stays in its group
 * (something still heartbeats for it) but hands nothing over while its partitions have messages
 * waiting. The Java client has max.poll.interval.ms for it; kafkajs has nothing. The three-broker
 * fault run saw it once: after a coordinator moved twice in a minute, one member of a projection
 * kept heartbeating for seven minutes and fetched nothing, 80 readings behind, and nobody else
 * could take its partitions.
 *
 * A batch in flight counts as activity (a batch that never ends is the batch watchdog's,
 * maxBatchMs), and so does a join, and a rejoin under way for up to maxJoinMs: a member waits in
 * its JoinGroup until the others rejoin, fetching nothing, and the cluster fault run saw both
 * members of a group replaced at once, which a rebalance held up by a node's restart explains.
 * Kafka is asked only once the member has been idle a check's interval, and a member counts as
 * stuck only when messages were found waiting for maxIdleMs without a batch meanwhile: while
 * Kafka cannot be asked (an outage), nobody counts as stuck.
 */
export class IdleWatch {
  readonly #options: IdleWatchOptions;
  readonly #checkEveryMs: number;
  readonly #maxJoinMs: number;
  /** When the member began to rejoin its group (a rebalance); undefined once it has joined. */
  #joiningSinceMs: number | undefined;
  readonly #handled = new Map<string, Map<number, number>>();
  #lastActivityMs = Date.now();
  /** When a check first found messages waiting with no activity since; cleared by activity. */
  #waitingSinceMs: number | undefined;
  #inFlight = 0;
  #checking = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: IdleWatchOptions) {
    this.#options = options;
    this.#checkEveryMs = Math.max(100, Math.min(10_000, Math.floor(options.maxIdleMs / 4)));
    this.#maxJoinMs = options.maxJoinMs ?? 5 * options.maxIdleMs;
  }

  /** The member began to rejoin its group: it fetches nothing until it has joined. */
  joinStarted(): void {
    this.#joiningSinceMs ??= Date.now();
    this.activity();
  }

  /** The member joined its group (with its partitions). */
  joined(): void {
    this.#joiningSinceMs = undefined;
    this.activity();
  }

  /** The member did something: joined its group, handed a batch over, finished one. */
  activity(): void {
    this.#lastActivityMs = Date.now();
    this.#waitingSinceMs = undefined;
  }

  batchStarted(): void {
    this.#inFlight++;
    this.activity();
  }

  batchEnded(): void {
    this.#inFlight--;
    this.activity();
  }

  /** The member handled a partition up to `next` (the offset after the batch). */
  handled(topic: string, partition: number, next: number): void {
    let byPartition = this.#handled.get(topic);
    if (byPartition === undefined) {
      byPartition = new Map<number, number>();
      this.#handled.set(topic, byPartition);
    }
    if (next > (byPartition.get(partition) ?? -1)) byPartition.set(partition, next);
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.check(), this.#checkEveryMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One check (the timer's; tests call it). */
  async check(): Promise<void> {
    if (this.#checking) return;
    const startedMs = Date.now();
    if (
      this.#inFlight > 0 ||
      (this.#joiningSinceMs !== undefined && startedMs - this.#joiningSinceMs < this.#maxJoinMs)
    ) {
      this.activity();
      return;
    }
    const held = this.#options.held();
    if (held.size === 0) {
      this.#waitingSinceMs = undefined;
      return;
    }
    if (startedMs - this.#lastActivityMs < this.#checkEveryMs) return;
    const since = this.#lastActivityMs;
    this.#checking = true;
    let waiting: WaitingPartition[];
    try {
      waiting = await this.#options.waiting(held, this.#handled);
    } catch {
      this.#waitingSinceMs = undefined;
      return;
    } finally {
      this.#checking = false;
    }
    if (this.#lastActivityMs !== since || this.#inFlight > 0) return;
    if (waiting.length === 0) {
      this.#waitingSinceMs = undefined;
      return;
    }
    this.#waitingSinceMs ??= startedMs;
    const now = Date.now();
    if (now - this.#waitingSinceMs < this.#options.maxIdleMs) return;
    this.activity();
    this.#options.onIdle({ idleMs: now - since, waiting });
  }
}
