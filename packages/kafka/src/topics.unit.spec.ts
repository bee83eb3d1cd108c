import { describe, expect, it } from 'vitest';
import { isRetriable } from '@gridstream/errors';
import { listTopics } from './topics.ts';

describe('listTopics', () => {
  it('makes kafkajs failing inside itself when no broker answers an outage a start waits out', async () => {
    // kafkajs's own words when every broker is in a leader election (the fault suite saw it)
    const admin = {
      listTopics: () =>
        Promise.reject(
          new TypeError(
            "Cannot destructure property 'topicMetadata' of '(intermediate value)' as it is null.",
          ),
        ),
    };
    const error: unknown = await listTopics(admin).catch((e: unknown) => e);
    expect(isRetriable(error)).toBe(true);
    expect((error as Error).message).toMatch(/no Kafka broker answered/);
  });

  it('leaves any other failure as it is', async () => {
    const bug = new TypeError('something else');
    const admin = { listTopics: () => Promise.reject(bug) };
    await expect(listTopics(admin)).rejects.toBe(bug);
  });
});
