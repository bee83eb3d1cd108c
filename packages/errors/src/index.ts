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
  /** The resource does not exist (or is not visible to the caller). */
  NOT_FOUND: { status: 404, retriable: false, title: 'Not found' },
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
  readonly path: string;
  readonly message: string;
}

export class GridstreamError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly issues: readonly FieldIssue[] | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; issues?: readonly FieldIssue[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GridstreamError';
    this.code = code;
    this.status = ErrorCode[code].status;
    this.retriable = ErrorCode[code].retriable;
    this.issues = options?.issues;
  }
}

/**
 * Whether an error from anywhere (our own, a client library's) is worth retrying.
 * Client libraries mark transient failures themselves: kafkajs sets `retriable`, the MongoDB
 * driver labels `RetryableWriteError`/`TransientTransactionError`, and network errors carry
 * errno codes. Anything unknown is treated as a bug, not retried.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof GridstreamError) return error.retriable;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    retriable?: unknown;
    code?: unknown;
    errorLabels?: unknown;
    hasErrorLabel?: unknown;
    name?: unknown;
  };
  if (e.retriable === true) return true;
  if (typeof e.code === 'string' && TRANSIENT_NETWORK_CODES.has(e.code)) return true;
  if (typeof e.hasErrorLabel === 'function') {
    const has = e.hasErrorLabel as (label: string) => boolean;
    if (has.call(error, 'RetryableWriteError') || has.call(error, 'TransientTransactionError'))
      return true;
  }
  return (
    e.name === 'MongoNetworkError' ||
    e.name === 'MongoServerSelectionError' ||
    e.name === 'MongoNetworkTimeoutError'
  );
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
