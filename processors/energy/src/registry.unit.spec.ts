import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { DeviceRegistry } from './registry.ts';

const base = { source: 'test', subject: 'd1', tenant: 't', time: '2026-12-01T00:00:00Z' };
const registered: GridstreamEvent = {
  ...base,
  id: 'r',
  type: EventType.deviceRegistered,
  data: { deviceId: 'd1', siteId: 'a', kind: 'meter', role: 'grid', name: 'd1', timeZone: 'UTC' },
};
const moved = (id: string, toSiteId: string, effectiveAt: string): GridstreamEvent => ({
  ...base,
  id,
  type: EventType.deviceMoved,
  data: { deviceId: 'd1', fromSiteId: 'x', toSiteId, effectiveAt, timeZone: 'Asia/Tokyo' },
});
const ms = (iso: string) => Date.parse(iso);

describe('DeviceRegistry', () => {
  it('places a moved device on each site for the time it was there', () => {
    const registry = new DeviceRegistry();
    registry.apply(registered);
    registry.apply(moved('m1', 'b', '2026-12-01T10:37:30Z'));
    // applied twice (the global table and the energy consumer both see it): no change
    registry.apply(moved('m1', 'b', '2026-12-01T10:37:30Z'));
    expect(registry.placement('t', 'd1', ms('2026-12-01T10:37:29.999Z'))?.siteId).toBe('a');
    expect(registry.placement('t', 'd1', ms('2026-12-01T10:37:30Z'))).toMatchObject({
      siteId: 'b',
      timeZone: 'Asia/Tokyo',
      kind: 'meter',
    });
    expect(registry.placement('t', 'd1')?.siteId).toBe('b');
    expect(
      registry
        .spansDuring('t', 'd1', ms('2026-12-01T10:30:00Z'), ms('2026-12-01T10:45:00Z'))
        ?.map((s) => [
          new Date(s.fromMs).toISOString(),
          new Date(s.toMs).toISOString(),
          s.placement.siteId,
        ]),
    ).toEqual([
      ['2026-12-01T10:30:00.000Z', '2026-12-01T10:37:30.000Z', 'a'],
      ['2026-12-01T10:37:30.000Z', '2026-12-01T10:45:00.000Z', 'b'],
    ]);
    expect(
      registry.spansDuring('t', 'd1', ms('2026-12-01T10:45:00Z'), ms('2026-12-01T11:00:00Z')),
    ).toHaveLength(1);
  });

  it('keeps a role change on every site and knows nothing of a device never registered', () => {
    const registry = new DeviceRegistry();
    registry.apply(registered);
    registry.apply(moved('m1', 'b', '2026-12-01T10:00:00Z'));
    registry.apply({
      ...base,
      id: 'u',
      type: EventType.deviceUpdated,
      data: { deviceId: 'd1', role: 'consumer' },
    });
    expect(registry.placement('t', 'd1', 0)?.role).toBe('consumer');
    expect(registry.placement('t', 'd1')?.role).toBe('consumer');
    expect(registry.spansDuring('t', 'd9', 0, 1)).toBeUndefined();
  });
});
