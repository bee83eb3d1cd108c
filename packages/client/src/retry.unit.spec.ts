import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelayMs } from './retry.ts';
import type { AttemptFailure, RetryPolicy } from './retry.ts';

const NOW = Date.parse('2026-12-05T12:00:00Z');
const noJitter = () => 0;
const fullJitter = () => 0.999_999;
const policy: RetryPolicy = {
  maxAttempts: 4,
  initialBackoffMs: 100,
  maxBackoffMs: 1_000,
  maxRetryAfterMs: 30_000,
};
const answer = (status: number, retryAfterMs?: number, reason?: string): AttemptFailure => ({
  kind: 'answer',
  status,
  reason,
  retryAfterMs,
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds as ms', () => {
    expect(parseRetryAfter('1', NOW)).toBe(1_000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
  });

  it('reads an HTTP-date as the time from now until then', () => {
    expect(parseRetryAfter('Sat, 05 Dec 2026 12:00:07 GMT', NOW)).toBe(7_000);
    // RFC 850's obsolete form, which RFC 9110 asks recipients to take too
    expect(parseRetryAfter('Saturday, 05-Dec-26 12:01:00 GMT', NOW)).toBe(60_000);
  });

  it('reads a date already past as no wait', () => {
    expect(parseRetryAfter('Sat, 05 Dec 2026 11:59:00 GMT', NOW)).toBe(0);
  });

  it('ignores what is neither: absent, fractions, negative numbers, words', () => {
    for (const value of [null, undefined, '', '1.5', '-3', 'soon', '12 seconds'])
      expect(parseRetryAfter(value, NOW), String(value)).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  it('retries 429, 503, an Idempotency-Key still in progress, and no answer', () => {
    for (const failure of [
      answer(429),
      answer(503),
      answer(409, 1_000, 'idempotency-key-in-progress'),
      { kind: 'network' } as const,
    ])
      expect(retryDelayMs(failure, 1, policy, noJitter), JSON.stringify(failure)).toBeDefined();
  });

  it('does not retry what another attempt cannot change', () => {
    for (const failure of [
      answer(400),
      answer(401),
      answer(404),
      answer(409, undefined, 'idempotency-key-reused'),
      answer(409, undefined, 'command-finished'),
      answer(422, undefined, 'idempotency-key-reused'),
      answer(500),
      answer(502),
    ])
      expect(retryDelayMs(failure, 1, policy, noJitter), JSON.stringify(failure)).toBeUndefined();
  });

  it('waits what retry-after asks, plus at most initialBackoffMs of jitter', () => {
    expect(retryDelayMs(answer(503, 1_000), 1, policy, noJitter)).toBe(1_000);
    expect(retryDelayMs(answer(429, 7_000), 3, policy, noJitter)).toBe(7_000);
    expect(retryDelayMs(answer(429, 7_000), 3, policy, fullJitter)).toBe(7_099);
    // retry-after is not capped by maxBackoffMs: the server's word stands
    expect(retryDelayMs(answer(429, 5_000), 1, policy, noJitter)).toBeGreaterThan(
      policy.maxBackoffMs,
    );
  });

  it('gives up at once when retry-after asks for more than the policy waits', () => {
    expect(retryDelayMs(answer(429, 30_000), 1, policy, noJitter)).toBe(30_000);
    expect(retryDelayMs(answer(429, 30_001), 1, policy, noJitter)).toBeUndefined();
  });

  it('backs off exponentially without retry-after, within [half, whole] of the step, up to the cap', () => {
    const bounds = [1, 2, 3].map((attempt) => [
      retryDelayMs({ kind: 'network' }, attempt, { ...policy, maxAttempts: 99 }, noJitter),
      retryDelayMs({ kind: 'network' }, attempt, { ...policy, maxAttempts: 99 }, fullJitter),
    ]);
    expect(bounds).toEqual([
      [50, 99],
      [100, 199],
      [200, 399],
    ]);
    expect(retryDelayMs(answer(503), 20, { ...policy, maxAttempts: 99 }, fullJitter)).toBe(999);
  });

  it('stops after maxAttempts attempts in all', () => {
    expect(retryDelayMs(answer(503, 0), 3, policy, noJitter)).toBe(0);
    expect(retryDelayMs(answer(503, 0), 4, policy, noJitter)).toBeUndefined();
    expect(
      retryDelayMs(answer(503, 0), 1, { ...policy, maxAttempts: 1 }, noJitter),
    ).toBeUndefined();
  });

  it('has a default policy that is bounded', () => {
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBeGreaterThan(1);
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBeLessThanOrEqual(10);
    expect(DEFAULT_RETRY_POLICY.maxRetryAfterMs).toBeLessThanOrEqual(120_000);
  });
});
