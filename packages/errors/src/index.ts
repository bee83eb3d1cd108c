/**
 * Every error gridstream reports has a stable code (clients and dashboards match on it), an
 * HTTP status, and a `retriable` flag. Processors choose between retrying and dead-lettering
 * from that flag, never from the message text.
 */
export interface ErrorDefinition {
  readonly status: number;
  readonly retriable: boolean;
  readonly title: string;
}

export const ErrorCode = {
  /** A request body, query or path parameter failed validation; `issues` names each field. */
  VALIDATION: { status: 400, retriable: false, title: 'The request is not valid' },
  /** No API key, or one that is unknown or revoked (`Authorization: Bearer <key>`). */
  UNAUTHENTICATED: {
    status: 401,
    retriable: false,
    title: 'A valid API key is required',
  },
  /** The API key is valid but lacks the scope the route needs (read, ingest, command, admin). */
  FORBIDDEN: { status: 403, retriable: false, title: 'The API key lacks the scope' },
  /** The API key sent more requests than its limit allows; `retry-after` says when to try again. */
  RATE_LIMITED: { status: 429, retriable: true, title: 'Too many requests for this API key' },
  /** The resource does not exist (or is not visible to the caller). */
  NOT_FOUND: { status: 404, retriable: false, title: 'Not found' },
  /**
   * The request conflicts with the state of what it addresses: a command for a decommissioned
   * device, the cancellation of a finished command, an Idempotency-Key reused for another request.
   */
  CONFLICT: {
    status: 409,
    retriable: false,
    title: 'The request conflicts with the current state',
  },
  /** The request is well formed but refused by a business rule (e.g. an action the device's kind cannot do). */
  REFUSED: { status: 422, retriable: false, title: 'The request is refused' },
  /** The request body is larger than the route accepts. */
  PAYLOAD_TOO_LARGE: { status: 413, retriable: false, title: 'The request body is too large' },
  /** Kafka, QuestDB or MongoDB did not answer in time or refused; trying again can succeed. */
  DEPENDENCY_UNAVAILABLE: {
    status: 503,
    retriable: true,
    title: 'A backing service is unavailable',
  },
  /** A message on a topic cannot be decoded or validated; it goes to the DLQ. */
  POISON_MESSAGE: { status: 422, retriable: false, title: 'The message cannot be processed' },
  /** A bug: an invariant broke. Never retried, always logged. */
  INTERNAL: { status: 500, retriable: false, title: 'Internal error' },
} as const satisfies Record<string, ErrorDefinition>;
export type ErrorCode = keyof typeof ErrorCode;

export interface FieldIssue {
  /** Where the field is (`body`, `headers`, `querystring`, `params`); `body` when absent. */
  readonly in?: string;
  readonly path: string;
  readonly message: string;
}

export class GridstreamError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly issues: readonly FieldIssue[] | undefined;
  /** Why, as a stable kebab-case word a client can match on (e.g. `device-decommissioned`). */
  readonly reason: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; issues?: readonly FieldIssue[]; reason?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GridstreamError';
    this.code = code;
    this.status = ErrorCode[code].status;
    this.retriable = ErrorCode[code].retriable;
    this.issues = options?.issues;
    this.reason = options?.reason;
  }
}

/**
 * Whether an error from anywhere (our own, a client library's) is worth retrying.
 * Client libraries mark transient failures themselves: kafkajs sets `retriable` (and wraps the
 * last failure in `originalError` when its own retries run out), the MongoDB driver labels
 * `RetryableWriteError` and names network errors, and sockets carry errno codes. The causes
 * are followed, so "gave up after retries" over "connection refused" still counts as transient.
 * Anything unknown is treated as a bug, not retried.
 */
export function isRetriable(error: unknown, depth = 0): boolean {
  if (error instanceof GridstreamError) return error.retriable;
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const e = error as {
    retriable?: unknown;
    code?: unknown;
    name?: unknown;
    hasErrorLabel?: unknown;
    originalError?: unknown;
    cause?: unknown;
  };
  if (e.retriable === true) return true;
  if (typeof e.code === 'string' && TRANSIENT_NETWORK_CODES.has(e.code)) return true;
  if (typeof e.name === 'string' && TRANSIENT_ERROR_NAMES.has(e.name)) return true;
  if (typeof e.hasErrorLabel === 'function') {
    const has = e.hasErrorLabel as (label: string) => boolean;
    if (has.call(error, 'RetryableWriteError') || has.call(error, 'TransientTransactionError'))
      return true;
  }
  return isRetriable(e.originalError, depth + 1) || isRetriable(e.cause, depth + 1);
}

const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const TRANSIENT_ERROR_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSLockTimeout',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
]);

/**
 * Whether an error says something about the event being handled rather than about the
 * world: our own POISON_MESSAGE or VALIDATION errors, and the errors pure code throws on data
 * it cannot work with (RangeError, TypeError, SyntaxError). Only these may send an event to
 * the DLQ; anything else (a sink refusing, a network failure, an unknown library error) is
 * retried, because dead-lettering good events during an outage would be worse than waiting.
 */
export function isPoison(error: unknown): boolean {
  if (error instanceof GridstreamError) {
    return !error.retriable && (error.code === 'POISON_MESSAGE' || error.code === 'VALIDATION');
  }
  return error instanceof RangeError || error instanceof TypeError || error instanceof SyntaxError;
}
