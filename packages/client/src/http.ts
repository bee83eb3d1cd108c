import type { z } from 'zod';
import {
  ApiErrorBody,
  GridstreamApiError,
  GridstreamNetworkError,
  GridstreamResponseError,
} from './errors.ts';
import { isRetriable, parseRetryAfter, retryDelayMs } from './retry.ts';
import type { AttemptFailure, RetryPolicy } from './retry.ts';

/** How the client reaches the API; fixed when the client is made. */
export interface Transport {
  readonly baseUrl: URL;
  readonly apiKey: string;
  readonly retry: RetryPolicy;
  /** How long one attempt may take, answer body included, before it counts as a network failure. */
  readonly attemptTimeoutMs: number;
  readonly fetch: typeof fetch;
  /** [0, 1); Math.random unless a test fixes it. */
  readonly random: () => number;
  readonly now: () => number;
}

export interface ApiRequest<T> {
  readonly method: 'GET' | 'POST';
  /** Below the base URL, e.g. `/v1/devices/meter-1`; ids already encoded. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** The schema of a success answer's body. */
  readonly answer: z.ZodType<T>;
  readonly signal?: AbortSignal | undefined;
}

export interface ApiAnswer<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly attempts: number;
}

/**
 * Sends a request, and again while the failure is retriable and the policy allows (retry.ts),
 * with the same headers and body each time: an ingest batch keeps its Idempotency-Key. The
 * caller's signal aborts an attempt or the wait between two; the call then rejects with the
 * signal's reason, as fetch does.
 */
export async function send<T>(transport: Transport, request: ApiRequest<T>): Promise<ApiAnswer<T>> {
  const url = new URL(request.path.replace(/^\//, ''), transport.baseUrl);
  for (const [name, value] of Object.entries(request.query ?? {}))
    if (value !== undefined) url.searchParams.set(name, String(value));
  const headers: Record<string, string> = {
    accept: 'application/json',
    authorization: `Bearer ${transport.apiKey}`,
    ...request.headers,
  };
  let body: string | undefined;
  if (request.body !== undefined) {
    body = JSON.stringify(request.body);
    headers['content-type'] = 'application/json';
  }
  const { signal } = request;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    const attemptSignal =
      signal === undefined
        ? AbortSignal.timeout(transport.attemptTimeoutMs)
        : AbortSignal.any([signal, AbortSignal.timeout(transport.attemptTimeoutMs)]);
    let status: number;
    let answerHeaders: Headers;
    let text: string;
    try {
      const response = await transport.fetch(url, {
        method: request.method,
        headers,
        body,
        signal: attemptSignal,
      });
      status = response.status;
      answerHeaders = response.headers;
      text = await response.text();
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      const failure: AttemptFailure = { kind: 'network' };
      const waitMs = retryDelayMs(failure, attempt, transport.retry, transport.random);
      if (waitMs === undefined)
        throw new GridstreamNetworkError(
          `no answer from ${url.origin} after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${(error as Error).message}`,
          attempt,
          { cause: error },
        );
      await sleep(waitMs, signal);
      continue;
    }
    if (status >= 200 && status < 300)
      return {
        status,
        headers: answerHeaders,
        body: readAnswer(request, status, text, attempt),
        attempts: attempt,
      };
    const errorBody = readErrorBody(text);
    const failure: AttemptFailure = {
      kind: 'answer',
      status,
      reason: errorBody?.reason,
      retryAfterMs: parseRetryAfter(answerHeaders.get('retry-after'), transport.now()),
    };
    const waitMs = retryDelayMs(failure, attempt, transport.retry, transport.random);
    if (waitMs === undefined)
      throw new GridstreamApiError(
        {
          status,
          body: errorBody,
          retryAfterMs: failure.retryAfterMs,
          retriable: isRetriable(failure),
        },
        attempt,
      );
    await sleep(waitMs, signal);
  }
}

function readAnswer<T>(request: ApiRequest<T>, status: number, text: string, attempts: number): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new GridstreamResponseError(
      `${request.method} ${request.path} answered ${status} with a body that is not JSON`,
      status,
      attempts,
      { cause: error },
    );
  }
  const parsed = request.answer.safeParse(json);
  if (!parsed.success)
    throw new GridstreamResponseError(
      `${request.method} ${request.path} answered ${status} with a body not as documented: ${parsed.error.issues
        .slice(0, 3)
        .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
        .join('; ')}`,
      status,
      attempts,
      { cause: parsed.error },
    );
  return parsed.data;
}

function readErrorBody(text: string): ApiErrorBody | undefined {
  try {
    const parsed = ApiErrorBody.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
