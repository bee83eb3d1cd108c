import { describe, expect, it } from 'vitest';
import { GridstreamError, isPoison, isRetriable } from './index.ts';

describe('isRetriable', () => {
  it('trusts our own catalogue', () => {
    expect(isRetriable(new GridstreamError('DEPENDENCY_UNAVAILABLE', 'down'))).toBe(true);
    expect(isRetriable(new GridstreamError('VALIDATION', 'bad'))).toBe(false);
  });

  it('recognises transient failures of the clients by flag, name or errno code', () => {
    expect(isRetriable(Object.assign(new Error('x'), { retriable: true }))).toBe(true);
    expect(isRetriable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(
      isRetriable(Object.assign(new Error('sel'), { name: 'MongoServerSelectionError' })),
    ).toBe(true);
  });

  it('follows the cause chain: a client that gave up on a refused connection is still transient', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
      retriable: false,
    });
    const gaveUp = Object.assign(new Error('retries exceeded'), {
      retriable: false,
      originalError: refused,
    });
    expect(isRetriable(gaveUp)).toBe(true);
    expect(
      isRetriable(
        new Error('outer', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }),
      ),
    ).toBe(true);
  });

  it('treats anything unknown as a bug', () => {
    expect(isRetriable(new TypeError('undefined is not a function'))).toBe(false);
    expect(isRetriable('a string')).toBe(false);
    expect(isRetriable(null)).toBe(false);
  });
});

describe('isPoison', () => {
  it('is true only for errors about the event itself', () => {
    expect(isPoison(new GridstreamError('POISON_MESSAGE', 'bad'))).toBe(true);
    expect(isPoison(new RangeError('offset not a quarter hour'))).toBe(true);
    expect(isPoison(new TypeError('x is undefined'))).toBe(true);
  });

  it('is false for the world failing, so good events are retried rather than dead-lettered', () => {
    expect(isPoison(new Error('HTTP 503 from QuestDB'))).toBe(false);
    expect(isPoison(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isPoison(new GridstreamError('DEPENDENCY_UNAVAILABLE', 'down'))).toBe(false);
  });
});
