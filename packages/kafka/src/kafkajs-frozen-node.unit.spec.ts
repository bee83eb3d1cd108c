import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/*
 * patches/kafkajs@2.2.4.patch, for a Kafka node that is frozen (SIGSTOP, a stalled VM): its
 * connections stay open and nothing answers, so a request to it waits for kafkajs's request
 * timeout (30 s). A fetcher stopped to be made again (a new partition leader, a rejoin) no
 * longer waits for its fetch in flight, and a heartbeat or FindCoordinator ask gives up on an
 * answer in time (kafka-coordinator.e2e.spec.ts freezes a real coordinator).
 */

const require = createRequire(import.meta.url);

interface Fetcher {
  start(): Promise<void>;
  stop(): Promise<void>;
}
const createFetcher = require('kafkajs/src/consumer/fetcher.js') as (options: {
  nodeId: number;
  workerQueue: { push(...batches: unknown[]): Promise<void> };
  partitionAssignments: Map<string, number>;
  fetch: (nodeId: number) => Promise<unknown[]>;
  logger: { namespace(name: string): unknown };
  prefetch?: boolean;
}) => Fetcher;
const answeredWithin = require('kafkajs/src/utils/answeredWithin.js') as <T>(
  request: Promise<T>,
  ms: number,
  what: string,
) => Promise<T>;

const logger = { namespace: () => ({ info: () => undefined }) };
const never = () => new Promise<never>(() => undefined);

// Either way a fetcher fetches: after its batches are handled, or ahead of them (prefetch).
describe.each([false, true])('kafkajs and a frozen node (prefetch %s)', (prefetch) => {
  it('a fetcher stops without waiting for a fetch that is never answered', async () => {
    let fetches = 0;
    const pushed: unknown[] = [];
    const fetcher = createFetcher({
      nodeId: 1,
      workerQueue: {
        push: (...batches) => {
          pushed.push(...batches);
          return Promise.resolve();
        },
      },
      partitionAssignments: new Map(),
      fetch: () => {
        fetches++;
        return never();
      },
      logger,
      prefetch,
    });
    const started = fetcher.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stopping = fetcher.stop();
    const outcome = await Promise.race([
      Promise.all([stopping, started]).then(() => 'stopped'),
      new Promise((resolve) =>
        setTimeout(() => {
          resolve('still waiting');
        }, 1_000),
      ),
    ]);
    expect(outcome).toBe('stopped');
    expect(fetches).toBe(1);
    expect(pushed).toEqual([]);
  });

  it('a fetcher stopped while its batches are handled waits for them', async () => {
    let release: () => void = () => undefined;
    const handled = new Promise<void>((resolve) => {
      release = resolve;
    });
    let done = false;
    const fetcher = createFetcher({
      nodeId: 1,
      workerQueue: {
        push: async () => {
          await handled;
          done = true;
        },
      },
      partitionAssignments: new Map(),
      fetch: () => Promise.resolve([{ topic: 't', partition: 0, rawMessages: [{}] }]),
      logger,
      prefetch,
    });
    void fetcher.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stopping = fetcher.stop();
    setTimeout(release, 100);
    await stopping;
    expect(done).toBe(true);
  });

  it('a request not answered in time fails as a request timeout, one answered in time is its answer', async () => {
    await expect(answeredWithin(never(), 50, 'Heartbeat')).rejects.toMatchObject({
      name: 'KafkaJSRequestTimeoutError',
      message: 'Heartbeat not answered within 50 ms',
    });
    await expect(answeredWithin(Promise.resolve('answer'), 1_000, 'Heartbeat')).resolves.toBe(
      'answer',
    );
  });
});
