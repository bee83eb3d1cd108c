import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import type { Context, SpanContext, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C Trace Context as it travels: the `traceparent` and `tracestate` of an HTTP request, and
 * on Kafka the CloudEvents distributed-tracing extension's attributes of the same names
 * (`ce_traceparent`, `ce_tracestate` in binary mode).
 */
export interface TraceHeaders {
  readonly traceparent: string;
  readonly tracestate?: string | undefined;
}

/** Headers as HTTP servers and Kafka clients give them: a value, several, or none. */
export type HeaderValue = string | Buffer | readonly (string | Buffer)[] | undefined;

const propagator = new W3CTraceContextPropagator();

const firstText = (value: HeaderValue): string | undefined => {
  const first: string | Buffer | undefined =
    typeof value === 'string' || Buffer.isBuffer(value) ? value : value?.[0];
  return first === undefined ? undefined : first.toString();
};

const getter: TextMapGetter<{ traceparent: HeaderValue; tracestate: HeaderValue }> = {
  keys: () => ['traceparent', 'tracestate'],
  get: (carrier, key) =>
    key === 'traceparent'
      ? firstText(carrier.traceparent)
      : key === 'tracestate'
        ? firstText(carrier.tracestate)
        : undefined,
};

const setter: TextMapSetter<{ traceparent?: string; tracestate?: string }> = {
  set: (carrier, key, value) => {
    if (key === 'traceparent') carrier.traceparent = value;
    else if (key === 'tracestate') carrier.tracestate = value;
  },
};

/**
 * The remote span a traceparent names, or undefined when there is none or it is malformed (the
 * propagator's parse: version 00, non-zero ids, flags). A W3C tracestate rides along with it.
 */
export function remoteSpanOf(traceparent: HeaderValue, tracestate: HeaderValue): Context {
  return propagator.extract(ROOT_CONTEXT, { traceparent, tracestate }, getter);
}

/** Whether the context carries a valid remote span that its sender sampled. */
export function sampledSpanContextOf(context: Context): SpanContext | undefined {
  const spanContext = trace.getSpanContext(context);
  return spanContext !== undefined &&
    trace.isSpanContextValid(spanContext) &&
    (spanContext.traceFlags & TraceFlags.SAMPLED) !== 0
    ? spanContext
    : undefined;
}

/** The traceparent (and tracestate) that make the context's span the parent downstream. */
export function traceHeadersOf(context: Context): TraceHeaders | undefined {
  const carrier: { traceparent?: string; tracestate?: string } = {};
  propagator.inject(context, carrier, setter);
  return carrier.traceparent === undefined
    ? undefined
    : { traceparent: carrier.traceparent, tracestate: carrier.tracestate };
}
