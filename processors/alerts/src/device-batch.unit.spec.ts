import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import type { PositionedEvent } from '@gridstream/kafka';
import { alertEvent } from './alert-events.ts';
import type { AlertSettings } from './alert-state.ts';
import { deviceStateId, planDeviceBatch } from './device-batch.ts';
import type { DeviceStateDocument } from './device-batch.ts';

const settings: AlertSettings = {
  maxGapMs: 15 * 60_000,
  offlineAfterMs: 5 * 60_000,
};

let offset = 0;
function positioned(event: GridstreamEvent, topic = 'readings', partition = 0): PositionedEvent {
  return { event, topic, partition, offset: String(offset++) };
}

function meterReading(time: string, importWh: number): GridstreamEvent {
  return {
    id: `r-${time}`,
    type: EventType.readingReported,
    source: 'test',
    subject: 'meter-1',
    time,
    tenant: 'acme',
    data: { deviceId: 'meter-1', importWh, quality: 'good' },
  };
}

const stored = (writes: ReturnType<typeof planDeviceBatch>['writes']) =>
  new Map<string, DeviceStateDocument>(
    writes.map((w) => [
      w.id,
      { _id: w.id, state: w.state, _meta: { version: 1, positions: w.positions } },
    ]),
  );

describe('planDeviceBatch', () => {
  it('folds a batch per device, one write each, and raises the alerts in order', () => {
    // given a meter whose counter drops within one batch
    const batch = [
      positioned(meterReading('2026-06-01T10:00:00Z', 5000)),
      positioned(meterReading('2026-06-01T10:01:00Z', 3)),
    ];
    // when the batch is planned against no stored state
    const plan = planDeviceBatch(new Map(), batch, settings);
    // then one state is written, with the batch's last position, and one reset is raised
    expect(plan.writes).toHaveLength(1);
    expect(plan.writes[0]?.id).toBe(deviceStateId('acme', 'meter-1'));
    expect(plan.writes[0]?.positions).toEqual([
      { topic: 'readings', partition: 0, offset: batch[1]?.offset },
    ]);
    expect(
      plan.transitions.map(
        (t) => `${t.tenant} ${t.transition.transition} ${t.transition.data.kind}`,
      ),
    ).toEqual(['acme raised meter-reset']);
  });

  it('changes nothing and raises nothing when the batch is redone after its state was written', () => {
    const batch = [
      positioned(meterReading('2026-06-01T11:00:00Z', 5000)),
      positioned(meterReading('2026-06-01T11:01:00Z', 3)),
    ];
    const first = planDeviceBatch(new Map(), batch, settings);
    const redo = planDeviceBatch(stored(first.writes), batch, settings);
    expect(redo).toEqual({ transitions: [], writes: [] });
  });
});

describe('alertEvent', () => {
  const batch = [
    positioned(meterReading('2026-06-01T12:00:00Z', 5000)),
    positioned(meterReading('2026-06-01T12:01:00Z', 3)),
  ];
  const [raised] = planDeviceBatch(new Map(), batch, settings).transitions;
  if (raised === undefined) throw new Error('expected an alert');

  it('is a catalogue event that survives the Kafka codec unchanged', () => {
    const event = alertEvent(raised.tenant, raised.transition);
    expect(event.type).toBe(EventType.alertRaised);
    expect(event.subject).toBe('meter-1');
    expect(decodeEvent(encodeEvent(event))).toEqual({ ok: true, event, topic: 'alerts' });
  });

  it('has an id that depends on tenant, alert and transition only', () => {
    const again = planDeviceBatch(new Map(), batch, settings).transitions[0];
    if (again === undefined) throw new Error('expected an alert');
    const id = alertEvent(raised.tenant, raised.transition).id;
    expect(alertEvent(again.tenant, again.transition).id).toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(alertEvent('other-tenant', raised.transition).id).not.toBe(id);
  });
});
