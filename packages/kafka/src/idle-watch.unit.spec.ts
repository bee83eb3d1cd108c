import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleWatch, waitingPartitions } from './idle-watch.ts';
import type { IdleConsumer, LogRange, WaitingPartition } from './idle-watch.ts';

const held = new Map([['readings', new Set([0, 1])]]);
const ends = (...ranges: LogRange[]) => new Map([['readings', ranges]]);
const offsets = (byPartition: Record<number, number>) =>
  new Map([['readings', new Map(Object.entries(byPartition).map(([p, o]) => [Number(p), o]))]]);

describe('waitingPartitions', () => {
  it('lists held partitions whose end is past the commit', () => {
    expect(
      waitingPartitions(
        held,
        ends({ partition: 0, low: 0, high: 10 }, { partition: 1, low: 0, high: 5 }),
        offsets({ 0: 7, 1: 5 }),
        new Map(),
      ),
    ).toEqual([{ topic: 'readings', partition: 0, position: 7, end: 10 }]);
  });

  it('leaves out partitions the member does not hold', () => {
    expect(
      waitingPartitions(held, ends({ partition: 2, low: 0, high: 10 }), new Map(), new Map()),
    ).toEqual([]);
  });

  it('counts what the member handled past its commit (markers, a rebuild behind)', () => {
    expect(
      waitingPartitions(
        held,
        ends({ partition: 0, low: 0, high: 10 }),
        offsets({ 0: 9 }),
        offsets({ 0: 10 }),
      ),
    ).toEqual([]);
  });

  it('starts an uncommitted partition at the start of its log, not at 0', () => {
    expect(
      waitingPartitions(
        held,
        ends({ partition: 0, low: 10, high: 10 }, { partition: 1, low: 4, high: 6 }),
        new Map(),
        new Map(),
      ),
    ).toEqual([{ topic: 'readings', partition: 1, position: 4, end: 6 }]);
  });

  it('does not judge an uncommitted partition of a consumer that starts at the end', () => {
    const log = ends({ partition: 0, low: 0, high: 10 }, { partition: 1, low: 0, high: 10 });
    expect(waitingPartitions(held, log, offsets({ 1: 4 }), new Map(), false)).toEqual([
      { topic: 'readings', partition: 1, position: 4, end: 10 },
    ]);
  });
});

describe('IdleWatch', () => {
  const someWaiting: WaitingPartition[] = [
    { topic: 'readings', partition: 0, position: 1, end: 2 },
  ];
  let waiting: WaitingPartition[] | Error;
  let asked: number;
  let idle: IdleConsumer[];
  let watch: IdleWatch;

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    waiting = someWaiting;
    asked = 0;
    idle = [];
    watch = new IdleWatch({
      maxIdleMs: 60_000,
      held: () => held,
      waiting: async () => {
        asked++;
        if (waiting instanceof Error) throw waiting;
        return waiting;
      },
      onIdle: (found) => idle.push(found),
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  /** Checks every 10 s (the interval a 60 s bound gives) for `ms`. */
  async function checkFor(ms: number) {
    for (let t = 0; t < ms; t += 10_000) {
      vi.advanceTimersByTime(10_000);
      await watch.check();
    }
  }

  it('reports a member idle for the bound while messages wait, once, with the partitions', async () => {
    await checkFor(60_000);
    expect(idle).toEqual([]);
    await checkFor(10_000);
    expect(idle).toEqual([{ idleMs: 70_000, waiting: someWaiting }]);
    // and counts afresh after a report
    await checkFor(50_000);
    expect(idle).toHaveLength(1);
  });

  it('does not ask Kafka while batches come', async () => {
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(5_000);
      watch.batchStarted();
      watch.batchEnded();
      await watch.check();
    }
    expect(asked).toBe(0);
    expect(idle).toEqual([]);
  });

  it('never reports a member with a batch in flight (a slow batch is the batch bound’s)', async () => {
    watch.batchStarted();
    await checkFor(300_000);
    expect(idle).toEqual([]);
    expect(asked).toBe(0);
  });

  it('never reports a member with nothing waiting', async () => {
    waiting = [];
    await checkFor(300_000);
    expect(idle).toEqual([]);
    expect(asked).toBeGreaterThan(0);
  });

  it('starts counting again when Kafka cannot be asked (an outage is not a stuck member)', async () => {
    await checkFor(30_000);
    waiting = new Error('Kafka down');
    await checkFor(120_000);
    waiting = someWaiting;
    await checkFor(50_000);
    expect(idle).toEqual([]);
    await checkFor(20_000);
    expect(idle).toHaveLength(1);
  });

  it('starts counting again after a batch', async () => {
    await checkFor(50_000);
    watch.batchStarted();
    watch.batchEnded();
    await checkFor(60_000);
    expect(idle).toEqual([]);
    await checkFor(20_000);
    expect(idle).toHaveLength(1);
  });

  it('does not judge a member waiting in a rejoin, up to five bounds', async () => {
    await checkFor(50_000);
    // a rebalance: the JoinGroup waits for the other members, the member fetches nothing
    watch.joinStarted();
    asked = 0;
    await checkFor(290_000);
    expect(idle).toEqual([]);
    expect(asked).toBe(0);
    // a join that never ends is judged as any idleness, once the five bounds are over
    await checkFor(80_000);
    expect(idle).toHaveLength(1);
  });

  it('judges a member again from its join on', async () => {
    watch.joinStarted();
    await checkFor(200_000);
    watch.joined();
    await checkFor(60_000);
    expect(idle).toEqual([]);
    await checkFor(20_000);
    expect(idle).toHaveLength(1);
  });

  it('counts a rejoin from its start: a second JoinGroup does not extend it', async () => {
    watch.joinStarted();
    await checkFor(200_000);
    watch.joinStarted();
    await checkFor(180_000);
    expect(idle).toHaveLength(1);
  });

  it('holds nothing: nothing to wait for', async () => {
    const empty = new IdleWatch({
      maxIdleMs: 60_000,
      held: () => new Map(),
      waiting: async () => someWaiting,
      onIdle: (found) => idle.push(found),
    });
    for (let t = 0; t < 300_000; t += 10_000) {
      vi.advanceTimersByTime(10_000);
      await empty.check();
    }
    expect(idle).toEqual([]);
  });
});
