import { z } from 'zod';

/**
 * The codes the API answers errors with (the catalogue of @gridstream/errors and the API's own
 * HTTP codes, packages/api/src/errors.ts); a unit test holds this list to the API's. Match on
 * the code, never on the message.
 */
export const API_ERROR_CODES = [
  'VALIDATION',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'NOT_FOUND',
  'CONFLICT',
  'REFUSED',
  'PAYLOAD_TOO_LARGE',
  'DEPENDENCY_UNAVAILABLE',
  'POISON_MESSAGE',
  'INTERNAL',
  'METHOD_NOT_ALLOWED',
  'URI_TOO_LONG',
  'UNSUPPORTED_MEDIA_TYPE',
  'OVERLOADED',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** The body of every error answer. `code` is read as any string: a newer API may add codes. */
export const ApiErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  reason: z.string().optional(),
  issues: z.array(z.object({ in: z.string(), path: z.string(), message: z.string() })).optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** An invalid field: where (`body`, `querystring`, `params`, `headers`) and its dotted path. */
export interface ApiIssue {
  readonly in: string;
  readonly path: string;
  readonly message: string;
}

/** Everything this package throws besides the caller's own abort. */
export abstract class GridstreamClientError extends Error {
  /** Whether the same request may succeed later (the client has retried it already). */
  abstract readonly retriable: boolean;
  /** Requests made before giving up, the first included. */
  readonly attempts: number;

  constructor(message: string, attempts: number, options?: { cause?: unknown }) {
    super(message, options);
    this.attempts = attempts;
  }
}

/** The API answered with an error status, in its error format (docs/api.md#errors). */
export class GridstreamApiError extends GridstreamClientError {
  override readonly name = 'GridstreamApiError';
  readonly status: number;
  /** One of API_ERROR_CODES, or `UNEXPECTED_ANSWER` for a body not in the API's error format. */
  readonly code: ApiErrorCode | 'UNEXPECTED_ANSWER' | (string & Record<never, never>);
  /** Why, as a stable word (`idempotency-key-reused`, `missing-scope` ...). */
  readonly reason: string | undefined;
  /** For VALIDATION (and a reused Idempotency-Key): every invalid field. */
  readonly issues: readonly ApiIssue[];
  /** What `retry-after` asked for, in ms, when the answer had one. */
  readonly retryAfterMs: number | undefined;
  readonly retriable: boolean;

  constructor(
    answer: {
      status: number;
      body: ApiErrorBody | undefined;
      retryAfterMs: number | undefined;
      retriable: boolean;
    },
    attempts: number,
  ) {
    const { status, body } = answer;
    super(
      body === undefined
        ? `the API answered ${status} without an error body in its format`
        : `${status} ${body.code}${body.reason === undefined ? '' : ` (${body.reason})`}: ${body.message}`,
      attempts,
    );
    this.status = status;
    this.code = body?.code ?? 'UNEXPECTED_ANSWER';
    this.reason = body?.reason;
    this.issues = body?.issues ?? [];
    this.retryAfterMs = answer.retryAfterMs;
    this.retriable = answer.retriable;
  }
}

/** No answer: the connection failed or an attempt ran out of time, on every attempt. */
export class GridstreamNetworkError extends GridstreamClientError {
  override readonly name = 'GridstreamNetworkError';
  readonly retriable = true;
}

/** A success status whose body is not what the API documents: a proxy, or another version. */
export class GridstreamResponseError extends GridstreamClientError {
  override readonly name = 'GridstreamResponseError';
  readonly retriable = false;
  readonly status: number;

  constructor(message: string, status: number, attempts: number, options?: { cause?: unknown }) {
    super(message, attempts, options);
    this.status = status;
  }
}

/** Readings the Kafka producer refuses to publish: each invalid field, as the API would name it. */
export class GridstreamInvalidReadingsError extends Error {
  override readonly name = 'GridstreamInvalidReadingsError';
  readonly issues: readonly ApiIssue[];

  constructor(issues: readonly ApiIssue[]) {
    const first = issues[0];
    super(
      `${issues.length} invalid field${issues.length === 1 ? '' : 's'}; first: ${first === undefined ? 'readings' : `${first.path}: ${first.message}`}`,
    );
    this.issues = issues;
  }
}
