import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { deviceStateAt } from './as-of.ts';
import { evolveDevice } from './evolve.ts';

const deviceId = 'plug-1';
const base = { source: 'test', subject: deviceId, tenant: 'acme' };
const events: GridstreamEvent[] = [
  {
    ...base,
    id: 'e1',
    time: '2026-11-01T00:00:00.000Z',
    type: EventType.deviceRegistered,
    data: {
      deviceId,
      siteId: 's',
      kind: 'smart_plug',
      role: 'consumer',
      name: 'Plug',
      timeZone: 'UTC',
    },
  },
  {
    ...base,
    id: 'e2',
    time: '2026-11-10T00:00:00.000Z',
    type: EventType.deviceUpdated,
    data: { deviceId, name: 'Kettle' },
  },
  {
    ...base,
    id: 'e3',
    time: '2026-11-20T00:00:00.000Z',
    type: EventType.deviceDecommissioned,
    data: { deviceId },
  },
];

describe('deviceStateAt', () => {
  it('folds only the events up to the instant, as the live projection would have', () => {
    // given a registration, a rename and a decommissioning
    // when the state is asked for between the rename and the decommissioning
    const view = deviceStateAt(events, Date.parse('2026-11-15T00:00:00Z'));
    // then it is the fold of the first two, the same as the live view was then
    expect(view).toEqual(events.slice(0, 2).reduce(evolveDevice, null));
    expect(view).toMatchObject({ name: 'Kettle', status: 'active' });
  });

  it('includes an event at exactly the instant and is null before the first', () => {
    expect(deviceStateAt(events, Date.parse('2026-11-20T00:00:00Z'))?.status).toBe(
      'decommissioned',
    );
    expect(deviceStateAt(events, Date.parse('2026-10-31T23:59:59Z'))).toBeNull();
  });
});
