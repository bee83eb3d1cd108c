export { startTracing, tracingRequested } from './start.ts';
export type { Tracing } from './start.ts';
export { tracingEnabled } from './state.ts';
export { inTracedBatch, startIngestSpan, startProcessSpans, traceWrite } from './spans.ts';
export type { BatchSpans, IngestSpan, TracedRecord } from './spans.ts';
export type { HeaderValue, TraceHeaders } from './trace-context.ts';
export { Attr } from './attributes.ts';
export { SpanName, TRACER_NAME } from './span-names.ts';
