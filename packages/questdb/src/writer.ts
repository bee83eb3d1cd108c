import { Sender } from '@questdb/nodejs-client';
import { GridstreamError } from '@gridstream/errors';
import { Attr, SpanName, traceWrite } from '@gridstream/telemetry';

const FLUSH_SPAN_ATTRIBUTES = {
  [Attr.dbSystemName]: 'questdb',
  [Attr.dbOperationName]: SpanName.questDbFlush,
};

/**
 * Rows go over ILP on HTTP: one flush is one HTTP request, and QuestDB answers only once the
 * rows are committed to the table's WAL. That answer is what lets a processor commit offsets.
 * Auto-flush is off so that a batch is flushed exactly when the caller decides.
 *
 * A flush in a batch whose records carry a sampled trace is a span of that trace (docs/tracing.md).
 * A failed flush says what kind of failure it is (ilpFlushError), so that the consumer loop
 * retries an outage and isolates a row QuestDB refuses instead of retrying it for ever.
 */
export async function createIlpSender(
  http: QuestDbHttp,
  /** The ILP protocol version; by default the highest the server takes (doubles in binary). */
  protocolVersion: 'auto' | '1' = 'auto',
): Promise<Sender> {
  const url = new URL(http.url);
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const auth =
    http.password === undefined
      ? ''
      : `username=${configValue(http.user ?? 'admin')};password=${configValue(http.password)};`;
  const sender = await Sender.fromConfig(
    `${scheme}::addr=${url.hostname}:${url.port || '9000'};${auth}auto_flush=off;request_timeout=30000;retry_timeout=10000;protocol_version=${protocolVersion};`,
  );
  const flush = sender.flush.bind(sender);
  const flushOrSayWhy = async () => {
    try {
      return await flush();
    } catch (error) {
      throw ilpFlushError(error);
    }
  };
  // Within a traced batch (runEventConsumer's process spans), each flush is a span of its traces.
  sender.flush = () => traceWrite(SpanName.questDbFlush, FLUSH_SPAN_ATTRIBUTES, flushOrSayWhy);
  return sender;
}

/** QuestDB's HTTP endpoint and its basic auth (@gridstream/config's questDbHttp). */
export interface QuestDbHttp {
  readonly url: string;
  readonly user?: string | undefined;
  /** None: no credentials sent (a QuestDB without http.user). */
  readonly password?: string | undefined;
}

/** A value in the client's configuration string, where `;` is written `;;`. */
function configValue(value: string): string {
  return value.replaceAll(';', ';;');
}

/**
 * The client reports an HTTP answer only in its message (`HTTP request failed, statusCode=400,
 * error=...`), so this is the one place that reads it. 400 is QuestDB refusing the rows
 * themselves (a value it cannot convert, a line it cannot parse): a failure of the data, which
 * the consumer isolates to the event that causes it and dead-letters. 5xx, 401/403 (the server
 * or its configuration) are an outage, and so is no answer in time (a server frozen or
 * overloaded: the fault suite's SIGSTOP of QuestDB); anything else without a status stays what
 * it is: transient errors (network codes) are retried, unknown ones count against the message's
 * attempt limit.
 */
export function ilpFlushError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (/request timeout|no response from server/i.test(error.message))
    return new GridstreamError(
      'DEPENDENCY_UNAVAILABLE',
      `QuestDB did not answer in time: ${error.message}`,
      { cause: error },
    );
  const status = /statusCode=(\d{3})/.exec(error.message)?.[1];
  if (status === undefined) return error;
  const code = Number(status);
  if (code === 400 || code === 413 || code === 422)
    return new GridstreamError('POISON_MESSAGE', `QuestDB refused the rows: ${error.message}`, {
      cause: error,
    });
  if (code >= 500 || code === 401 || code === 403 || code === 408 || code === 429)
    return new GridstreamError(
      'DEPENDENCY_UNAVAILABLE',
      `QuestDB did not take the rows: ${error.message}`,
      { cause: error },
    );
  return error;
}

export type { Sender } from '@questdb/nodejs-client';
