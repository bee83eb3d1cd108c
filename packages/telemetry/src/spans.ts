import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  createContextKey,
  trace,
} from '@opentelemetry/api';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import { Attr } from './attributes.ts';
import { SpanName } from './span-names.ts';
import { tracer, tracingEnabled } from './state.ts';
import { remoteSpanOf, sampledSpanContextOf, traceHeadersOf } from './trace-context.ts';
import type { HeaderValue, TraceHeaders } from './trace-context.ts';

const failed = (span: Span, error: unknown) => {
  const exception = error instanceof Error ? error : new Error(String(error));
  span.recordException(exception);
  span.setAttribute(Attr.errorType, exception.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
};

/** The API's span of one POST /v1/readings body, and the context it hands downstream. */
export interface IngestSpan {
  /** What each published record carries as its CloudEvents traceparent/tracestate. */
  readonly headers: TraceHeaders | undefined;
  /** Ends the span with the answer given; an error marks it failed only when it is the server's. */
  end(statusCode: number, error?: unknown): void;
}

/**
 * Starts the ingest span of a request, the child of the request's W3C `traceparent` when it
 * has a valid one (a new trace otherwise, as the sampler decides). Undefined when tracing is off:
 * then nothing is read and nothing is propagated.
 */
export function startIngestSpan(request: {
  readonly traceparent?: HeaderValue;
  readonly tracestate?: HeaderValue;
}): IngestSpan | undefined {
  if (!tracingEnabled()) return undefined;
  const parent = remoteSpanOf(request.traceparent, request.tracestate);
  const span = tracer().startSpan(
    SpanName.ingestReadings,
    {
      kind: SpanKind.SERVER,
      attributes: { [Attr.httpRequestMethod]: 'POST', [Attr.httpRoute]: '/v1/readings' },
    },
    parent,
  );
  return {
    headers: traceHeadersOf(trace.setSpan(parent, span)),
    end(statusCode, error) {
      span.setAttribute(Attr.httpResponseStatusCode, statusCode);
      if (statusCode >= 500) failed(span, error ?? new Error(`answered ${statusCode}`));
      span.end();
    },
  };
}

/** A consumed record that carries a CloudEvents traceparent, and where it sits. */
export interface TracedRecord {
  readonly traceparent: HeaderValue;
  readonly tracestate: HeaderValue;
  readonly offset: string;
  readonly key?: string | undefined;
  readonly eventId: string;
  readonly eventType: string;
}

/** The process spans of one batch's sampled records, open while its handler runs. */
export interface BatchSpans {
  /** Runs the handler with the spans as the current context, where traceWrite finds them. */
  run<T>(work: () => Promise<T>): Promise<T>;
  end(error?: unknown): void;
}

/**
 * Whether a traceparent's flags (its last two hex digits, `…-01`) say sampled, read without
 * parsing the rest: with sampling at the edge most records carry an unsampled one, and the
 * propagator's parse (0.9 µs) is kept for the few that are (it checks everything else).
 */
function flaggedSampled(traceparent: HeaderValue): boolean {
  const value =
    typeof traceparent === 'string' || Buffer.isBuffer(traceparent)
      ? traceparent
      : traceparent?.[0];
  if (value === undefined || value.length < TRACEPARENT_LENGTH) return false;
  const digit =
    typeof value === 'string' ? value.charCodeAt(FLAGS_LAST_DIGIT) : value[FLAGS_LAST_DIGIT];
  if (digit === undefined) return false;
  // '0'-'9' are 48-57 (even at 0), 'a'-'f' 97-102 and 'A'-'F' 65-70 (odd at 10)
  return (digit <= 57 ? digit & 1 : (digit & 1) ^ 1) === 1;
}

/** `00-` 32 hex `-` 16 hex `-` 2 hex: the flags' last digit is the 55th character. */
const TRACEPARENT_LENGTH = 55;
const FLAGS_LAST_DIGIT = 54;

const BATCH_SPANS = createContextKey('gridstream batch process spans');

/**
 * A `process <topic>` span for each record whose traceparent is sampled, the child of the
 * span that published it (the API's ingest span). Undefined when no record is sampled (or tracing
 * is off), so a batch of untraced records costs its header reads and nothing else.
 */
export function startProcessSpans(
  where: { readonly groupId: string; readonly topic: string; readonly partition: number },
  records: readonly TracedRecord[],
): BatchSpans | undefined {
  if (!tracingEnabled()) return undefined;
  const spans: Span[] = [];
  for (const record of records) {
    if (!flaggedSampled(record.traceparent)) continue;
    const parent = remoteSpanOf(record.traceparent, record.tracestate);
    if (sampledSpanContextOf(parent) === undefined) continue;
    const attributes: Attributes = {
      [Attr.messagingSystem]: 'kafka',
      [Attr.messagingOperationType]: 'process',
      [Attr.messagingOperationName]: 'process',
      [Attr.messagingDestinationName]: where.topic,
      [Attr.messagingDestinationPartitionId]: String(where.partition),
      [Attr.messagingConsumerGroupName]: where.groupId,
      [Attr.messagingKafkaOffset]: Number(record.offset),
      [Attr.cloudEventsEventId]: record.eventId,
      [Attr.cloudEventsEventType]: record.eventType,
    };
    if (record.key !== undefined) attributes[Attr.messagingKafkaMessageKey] = record.key;
    spans.push(
      tracer().startSpan(
        SpanName.process(where.topic),
        { kind: SpanKind.CONSUMER, attributes },
        parent,
      ),
    );
  }
  if (spans.length === 0) return undefined;
  // With one span it is also the active span, for any other instrumentation under the handler.
  const base =
    spans.length === 1 && spans[0] !== undefined
      ? trace.setSpan(ROOT_CONTEXT, spans[0])
      : ROOT_CONTEXT;
  const current: Context = base.setValue(BATCH_SPANS, spans);
  return {
    run: (work) => context.with(current, work),
    end(error) {
      for (const span of spans) {
        if (error !== undefined) failed(span, error);
        span.end();
      }
    },
  };
}

/**
 * Whether the batch being handled carries sampled records (its process spans are the current
 * context): a handler that writes later (write-behind) writes such a batch's documents at once, so
 * each reading's trace still reaches its write.
 */
export function inTracedBatch(): boolean {
  return tracingEnabled() && context.active().getValue(BATCH_SPANS) !== undefined;
}

/**
 * Runs a sink's write as a CLIENT span under each process span of the batch being handled (one
 * per sampled trace, so each reading's trace reaches its write). Outside a traced batch, and with
 * tracing off, it only runs the write.
 */
export async function traceWrite<T>(
  name: string,
  attributes: Attributes,
  write: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return write();
  const parents = context.active().getValue(BATCH_SPANS) as readonly Span[] | undefined;
  if (parents === undefined) return write();
  const spans = parents.map((parent) =>
    tracer().startSpan(
      name,
      { kind: SpanKind.CLIENT, attributes },
      trace.setSpan(ROOT_CONTEXT, parent),
    ),
  );
  try {
    return await write();
  } catch (error) {
    for (const span of spans) failed(span, error);
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}
