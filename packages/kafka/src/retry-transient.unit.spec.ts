import { describe, expect, it } from 'vitest';
import { retryTransient } from './topics.ts';

/** An error as kafkajs makes one: a protocol error marked retriable, or not. */
const kafkaError = (type: string, retriable: boolean) =>
  Object.assign(new Error(type), { type, retriable });

describe('retryTransient', () => {
  it('tries again while the broker answers with a transient error, then answers', async () => {
    let calls = 0;
    const answer = await retryTransient(async () => {
      calls += 1;
      if (calls < 3) throw kafkaError('NOT_COORDINATOR_FOR_GROUP', true);
      return 'offsets';
    });
    expect(answer).toBe('offsets');
    expect(calls).toBe(3);
  });

  it('gives up at once on an error that is not transient, and after the deadline on one that is', async () => {
    let calls = 0;
    await expect(
      retryTransient(async () => {
        calls += 1;
        throw kafkaError('GROUP_AUTHORIZATION_FAILED', false);
      }),
    ).rejects.toMatchObject({ type: 'GROUP_AUTHORIZATION_FAILED' });
    expect(calls).toBe(1);
    const started = Date.now();
    await expect(
      retryTransient(async () => {
        throw kafkaError('NOT_COORDINATOR_FOR_GROUP', true);
      }, 300),
    ).rejects.toMatchObject({ type: 'NOT_COORDINATOR_FOR_GROUP' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
