import { describe, expect, it } from 'vitest';
import { isPoison, isRetriable } from '@gridstream/errors';
import { IlpGroupWriter } from './group-writer.ts';

/**
 * The grouping logic alone, over a `send` that records each request and answers when told:
 * the int spec (group-writer.int.spec.ts) shows the same against the real QuestDB.
 */
function recordingSend() {
  const requests: { text: string; answer: (error?: Error) => void }[] = [];
  const send = (data: Buffer) =>
    new Promise<void>((resolve, reject) => {
      requests.push({
        text: data.toString(),
        answer: (error) => {
          if (error === undefined) resolve();
          else reject(error);
        },
      });
    });
  return { requests, send };
}

const line = (name: string, bytes = 0) => Buffer.from(`${name}${'x'.repeat(bytes)}\n`);
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Tracks whether a flush has settled, and how. */
function watch(flushed: Promise<void>) {
  const state: { done: boolean; error?: unknown } = { done: false };
  flushed.then(
    () => {
      state.done = true;
    },
    (error: unknown) => {
      state.done = true;
      state.error = error;
    },
  );
  return state;
}

describe('IlpGroupWriter', () => {
  it('sends the flushes made while a request is out together, in one next request', async () => {
    const { requests, send } = recordingSend();
    const writer = new IlpGroupWriter(send);
    // given one flush out, and three more made while it is
    const first = watch(writer.enqueue(line('a')));
    const rest = ['b', 'c', 'd'].map((name) => watch(writer.enqueue(line(name))));
    await tick();
    expect(requests.map((r) => r.text)).toEqual(['a\n']);
    // when the first request is answered
    requests[0]?.answer();
    await tick();
    // then the three go out as one request, in the order they were flushed
    expect(first.done).toBe(true);
    expect(requests.map((r) => r.text)).toEqual(['a\n', 'b\nc\nd\n']);
    expect(rest.some((s) => s.done)).toBe(false);
    requests[1]?.answer();
    await tick();
    expect(rest.every((s) => s.done && s.error === undefined)).toBe(true);
    expect(writer.stats).toEqual({ requests: 2, parts: 4, resentAlone: 0 });
  });

  it('sends a second request beside the first only once enough bytes wait', async () => {
    const { requests, send } = recordingSend();
    const writer = new IlpGroupWriter(send, { maxInFlight: 2, parallelFromBytes: 100 });
    void writer.enqueue(line('a'));
    void writer.enqueue(line('b', 10));
    await tick();
    // a small backlog waits for the request out
    expect(requests).toHaveLength(1);
    void writer.enqueue(line('c', 100));
    await tick();
    // a large one goes out beside it, with what waited before it
    expect(requests.map((r) => r.text.length)).toEqual([2, 12 + 102]);
    // and never more than maxInFlight at once
    void writer.enqueue(line('d', 200));
    await tick();
    expect(requests).toHaveLength(2);
    requests[0]?.answer();
    await tick();
    expect(requests).toHaveLength(3);
  });

  it('does not join flushes past the request size, but sends a larger one alone', async () => {
    const { requests, send } = recordingSend();
    const writer = new IlpGroupWriter(send, { maxInFlight: 1, maxRequestBytes: 50 });
    void writer.enqueue(line('a'));
    void writer.enqueue(line('b', 30));
    void writer.enqueue(line('c', 30));
    void writer.enqueue(line('d', 80));
    await tick();
    for (let i = 0; i < 3; i += 1) {
      requests[i]?.answer();
      await tick();
    }
    expect(requests.map((r) => r.text.length)).toEqual([2, 32, 32, 82]);
  });

  it('on a joint request refused as bad data, fails only the flush whose rows QuestDB refuses', async () => {
    // given a QuestDB that refuses any request holding the line "bad"
    const sent: string[] = [];
    const writer = new IlpGroupWriter(async (data) => {
      const text = data.toString();
      sent.push(text);
      await tick();
      if (text.includes('bad\n'))
        throw new Error('HTTP request failed, statusCode=400, error={"code":"invalid"}');
    });
    const blocker = writer.enqueue(line('first'));
    const flushes = [line('good1'), line('bad'), line('good2')].map((data) =>
      watch(writer.enqueue(data)),
    );
    await blocker;
    await new Promise((resolve) => setTimeout(resolve, 20));
    // then the joint request was refused, and each part was sent again alone
    expect(sent).toEqual(['first\n', 'good1\nbad\ngood2\n', 'good1\n', 'bad\n', 'good2\n']);
    expect(flushes.map((s) => s.done)).toEqual([true, true, true]);
    expect(flushes[0]?.error).toBeUndefined();
    expect(flushes[2]?.error).toBeUndefined();
    // the failure is one of the data, which the consumer isolates and dead-letters
    expect(isPoison(flushes[1]?.error)).toBe(true);
    expect(writer.stats.resentAlone).toBe(3);
  });

  it('fails every flush of a joint request QuestDB did not take, as an outage to retry', async () => {
    const { requests, send } = recordingSend();
    const writer = new IlpGroupWriter(send, { maxInFlight: 1 });
    void writer.enqueue(line('first'));
    const joint = [line('a'), line('b')].map((data) => watch(writer.enqueue(data)));
    await tick();
    requests[0]?.answer();
    await tick();
    requests[1]?.answer(new Error('HTTP request failed, statusCode=503, error=busy'));
    await tick();
    expect(requests).toHaveLength(2);
    for (const state of joint) {
      expect(state.done).toBe(true);
      expect(isRetriable(state.error)).toBe(true);
    }
    // and the writer goes on with later flushes
    const later = watch(writer.enqueue(line('c')));
    await tick();
    requests[2]?.answer();
    await tick();
    expect(later).toEqual({ done: true });
  });
});
