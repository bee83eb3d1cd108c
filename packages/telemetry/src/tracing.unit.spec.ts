import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../../../test/otlp-receiver.ts';
import { samplerFromEnv } from './sampler.ts';
import { startIngestSpan, startProcessSpans, traceWrite } from './spans.ts';
import { startTracing, tracingRequested } from './start.ts';
import { tracingEnabled } from './state.ts';
import type { Tracing } from './start.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';
const sampled = `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`;
const where = { groupId: 'group-1', topic: 'readings', partition: 2 };
const record = (traceparent: string) => ({
  traceparent,
  tracestate: undefined,
  offset: '41',
  key: 'meter-1',
  eventId: 'event-1',
  eventType: 'gridstream.reading.reported.v1',
});

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

describe('tracing off (no OTLP endpoint)', () => {
  it('exports nothing and hands no trace context downstream', async () => {
    // given a receiver nobody is told about, and an environment without an endpoint
    const receiver = await startOtlpReceiver();
    try {
      // when tracing is started and a traced request, batch and write go by
      tracing = await startTracing('test', {});
      const ingest = startIngestSpan({ traceparent: sampled });
      const spans = startProcessSpans(where, [record(sampled)]);
      const written = await traceWrite('ILP flush', {}, async () => 'written');
      await tracing.shutdown();
      // then nothing was traced: no ingest span, so no traceparent for the records
      expect(tracing.enabled).toBe(false);
      expect(tracingEnabled()).toBe(false);
      expect(ingest).toBeUndefined();
      expect(spans).toBeUndefined();
      expect(written).toBe('written');
      expect(receiver.requests()).toBe(0);
    } finally {
      await receiver.close();
    }
  });

  it('is asked for by an OTLP endpoint only, and OTEL_SDK_DISABLED overrides it', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(
      tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }),
    ).toBe(true);
    expect(
      tracingRequested({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_SDK_DISABLED: 'true',
      }),
    ).toBe(false);
  });
});

describe('tracing on', () => {
  it('continues the caller’s trace through ingest, processing and a write, and exports it', async () => {
    // given tracing pointed at a receiver
    const receiver = await startOtlpReceiver();
    try {
      tracing = await startTracing('gridstream-unit', {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      });
      // when a request with a sampled traceparent is ingested
      const ingest = startIngestSpan({ traceparent: sampled, tracestate: 'a=1' });
      // then its records carry the ingest span's context in the caller's trace
      const headers = ingest?.headers;
      expect(headers?.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
      expect(headers?.traceparent).not.toContain(CALLER_SPAN_ID);
      expect(headers?.tracestate).toBe('a=1');
      ingest?.end(202);
      // and a batch with that record and an unsampled one has one process span, whose write is its child
      const unsampled = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-00`;
      const spans = startProcessSpans(where, [
        record(headers?.traceparent ?? ''),
        record(unsampled),
      ]);
      expect(spans).toBeDefined();
      await spans?.run(() =>
        traceWrite('ILP flush', { 'db.system.name': 'questdb' }, async () => 1),
      );
      spans?.end();
      // and a record without a sampled traceparent starts nothing
      expect(startProcessSpans(where, [record(unsampled), record('garbage')])).toBeUndefined();
      const upper = `00-${TRACE_ID.toUpperCase()}-${CALLER_SPAN_ID}-0B`; // flags 0x0b: sampled
      expect(startProcessSpans(where, [record(upper)])).toBeUndefined(); // ids must be lowercase
      const flags = (hex: string) => `00-${'5'.repeat(32)}-${'6'.repeat(16)}-${hex}`;
      for (const [hex, sampled] of [
        ['03', true],
        ['0f', true],
        ['0a', false],
        ['02', false],
      ] as const) {
        const batch = startProcessSpans(where, [
          { ...record(flags(hex)), traceparent: Buffer.from(flags(hex)) },
        ]);
        expect(batch !== undefined, `flags ${hex}`).toBe(sampled);
        batch?.end();
      }
      await tracing.shutdown();
      const ofTrace = receiver.spans.filter((span) => span.traceId === TRACE_ID);
      const byName = new Map(ofTrace.map((span) => [span.name, span]));
      expect([...byName.keys()].sort()).toEqual([
        'ILP flush',
        'POST /v1/readings',
        'process readings',
      ]);
      expect(byName.get('POST /v1/readings')?.parentSpanId).toBe(CALLER_SPAN_ID);
      expect(byName.get('process readings')?.parentSpanId).toBe(
        byName.get('POST /v1/readings')?.spanId,
      );
      expect(byName.get('process readings')?.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.destination.name': 'readings',
        'messaging.destination.partition.id': '2',
        'messaging.consumer.group.name': 'group-1',
        'messaging.kafka.offset': 41,
      });
      expect(byName.get('ILP flush')?.parentSpanId).toBe(byName.get('process readings')?.spanId);
      expect(ofTrace.every((span) => span.serviceName === 'gridstream-unit')).toBe(true);
      // and nothing else: the three of the trace, and one process span for each sampled flag above
      expect(receiver.spans).toHaveLength(5);
    } finally {
      await receiver.close();
    }
  });
});

describe('samplerFromEnv', () => {
  it('reads the spec’s sampler names and refuses others', () => {
    expect(samplerFromEnv({}).toString()).toMatch(/ParentBased\{root=AlwaysOnSampler/);
    expect(
      samplerFromEnv({
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }).toString(),
    ).toMatch(/root=TraceIdRatioBased\{0\.25\}/);
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' }).toString()).toBe(
      'AlwaysOffSampler',
    );
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/not one/);
  });
});
