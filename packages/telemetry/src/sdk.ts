// Loaded by startTracing only when tracing is asked for: a process without an OTLP endpoint
// never loads the SDK or the exporter.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  resourceAttributesEnvDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { samplerFromEnv } from './sampler.ts';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The tracer provider, registered as the global one with an AsyncLocalStorage context manager
 * (the process spans of a batch reach the sinks' writes through it) and the W3C propagator.
 * The exporter reads its headers, timeout and TLS files from the OTEL_EXPORTER_OTLP_* variables
 * itself; spans leave in batches (BatchSpanProcessor, every 5 s) off the hot path.
 */
/** The traces-only endpoint as given, or the base endpoint with the OTLP/HTTP path appended. */
function tracesUrl(env: Env): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

export function startSdk(serviceName: string, env: Env): { shutdown(): Promise<void> } {
  const resource = defaultResource()
    // OTEL_RESOURCE_ATTRIBUTES (read by the detector from the process's environment)
    .merge(detectResources({ detectors: [resourceAttributesEnvDetector] }))
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME?.trim() || serviceName,
      }),
    );
  const provider = new TracerProvider({
    resource,
    sampler: samplerFromEnv(env),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: tracesUrl(env) }) }),
    ],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
