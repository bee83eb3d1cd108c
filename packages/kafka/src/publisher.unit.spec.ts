import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import { publishedMessage, TRACEPARENT_HEADER, TRACESTATE_HEADER } from './publisher.ts';

const reading: EventOf<typeof EventType.readingReported> = {
  id: '0193a0c0-0000-7000-8000-000000000001',
  type: EventType.readingReported,
  source: 'unit',
  subject: 'meter-1',
  time: '2026-11-20T10:00:00Z',
  tenant: 'acme',
  data: { deviceId: 'meter-1', quality: 'good', powerW: 250, importWh: 1000 },
};

describe('publishedMessage', () => {
  it('adds no trace header without a trace (tracing off)', () => {
    const headers = publishedMessage(reading).headers ?? {};
    expect(headers[TRACEPARENT_HEADER]).toBeUndefined();
    expect(headers[TRACESTATE_HEADER]).toBeUndefined();
    expect(headers.ce_id).toBe(reading.id);
  });

  it('carries a trace as the CloudEvents distributed-tracing extension', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const headers = publishedMessage(reading, { traceparent, tracestate: 'a=1' }).headers ?? {};
    expect(headers).toMatchObject({ ce_traceparent: traceparent, ce_tracestate: 'a=1' });
    expect(publishedMessage(reading, { traceparent }).headers?.ce_tracestate).toBeUndefined();
  });
});
