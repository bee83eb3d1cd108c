/**
 * When a failed request is sent again, as pure functions of the failure, the attempt, the clock
 * and a random source (given as arguments, so tests choose them). The HTTP loop (http.ts) only
 * sleeps for what these say.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included: 1 sends once and never retries. */
  readonly maxAttempts: number;
  /** The wait after the first failure that names no `retry-after`; it doubles each time. */
  readonly initialBackoffMs: number;
  /** The longest such wait. */
  readonly maxBackoffMs: number;
  /**
   * The longest `retry-after` waited for. An answer asking for longer is handed to the caller
   * (GridstreamApiError with `retryAfterMs`) rather than held for minutes inside a call.
   */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialBackoffMs: 200,
  maxBackoffMs: 10_000,
  maxRetryAfterMs: 60_000,
};

/** Why an attempt failed, as far as retrying is concerned. */
export type AttemptFailure =
  | {
      readonly kind: 'answer';
      readonly status: number;
      /** The error body's `reason`, when it had one. */
      readonly reason: string | undefined;
      readonly retryAfterMs: number | undefined;
    }
  /** No answer: the connection failed, or the attempt ran out of time. */
  | { readonly kind: 'network' };

/**
 * Whether sending the same request again can help: 429 (rate limited), 503 (a backing service
 * down, or the API shedding load), a 409 telling that this Idempotency-Key's first request is
 * still publishing, and no answer at all. A network failure is retried for ingest too: its
 * Idempotency-Key makes the batch count once, however many attempts reached the API.
 */
export function isRetriable(failure: AttemptFailure): boolean {
  if (failure.kind === 'network') return true;
  return (
    failure.status === 429 ||
    failure.status === 503 ||
    (failure.status === 409 && failure.reason === 'idempotency-key-in-progress')
  );
}

/**
 * A `retry-after` header in ms from now: delay-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`, RFC 9110 §10.2.3; a date past is 0). Undefined when absent
 * or unreadable (`1.5`, `soon`).
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // a date has a weekday and a month name; without letters Date.parse reads "1.5" as a date
  if (!/[A-Za-z]/.test(text)) return undefined;
  const atMs = Date.parse(text);
  return Number.isFinite(atMs) ? Math.max(0, atMs - nowMs) : undefined;
}

/**
 * How long to wait before attempt `failedAttempt + 1`, or undefined to give up: the failure is
 * not retriable, the attempts are spent, or `retry-after` asks for more than the policy waits.
 * `retry-after` is waited for in full, plus up to `initialBackoffMs` of jitter so clients told
 * the same second do not all come back in it; otherwise the backoff doubles from
 * `initialBackoffMs` up to `maxBackoffMs`, half of it fixed and half random (equal jitter).
 * `random` returns a number in [0, 1).
 */
export function retryDelayMs(
  failure: AttemptFailure,
  failedAttempt: number,
  policy: RetryPolicy,
  random: () => number,
): number | undefined {
  if (!isRetriable(failure) || failedAttempt >= policy.maxAttempts) return undefined;
  const retryAfterMs = failure.kind === 'answer' ? failure.retryAfterMs : undefined;
  if (retryAfterMs !== undefined) {
    if (retryAfterMs > policy.maxRetryAfterMs) return undefined;
    return retryAfterMs + Math.floor(random() * policy.initialBackoffMs);
  }
  const backoffMs = Math.min(
    policy.maxBackoffMs,
    policy.initialBackoffMs * 2 ** Math.min(failedAttempt - 1, 30),
  );
  return Math.floor(backoffMs / 2 + (random() * backoffMs) / 2);
}
