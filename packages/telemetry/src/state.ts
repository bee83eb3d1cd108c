import { trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { TRACER_NAME } from './span-names.ts';

let enabled = false;

/**
 * Whether this process exports traces (startTracing found an OTLP endpoint). Everything that
 * traces asks this first and does nothing else when it is false: tracing off costs one check.
 */
export function tracingEnabled(): boolean {
  return enabled;
}

/** Set by startTracing and its shutdown only. */
export function setTracingEnabled(value: boolean): void {
  enabled = value;
}

/** gridstream's tracer from the registered provider (the API's no-op one before startTracing). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}
