import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import { alertDocumentId, evolveAlert } from './evolve.ts';
import type { AlertView } from './evolve.ts';

const detail = { powerW: 3500, ratedPowerW: 3000 };
const base = {
  alertId: 'plug-1:power-threshold:2026-06-01T10:00:00.000Z',
  kind: 'power-threshold' as const,
  deviceId: 'plug-1',
  siteId: 'site-1',
  detail,
};
const envelope = { source: 'processor/alerts', subject: 'plug-1', tenant: 'acme' };

const raised: EventOf<typeof EventType.alertRaised> = {
  ...envelope,
  id: 'raised-1',
  type: EventType.alertRaised,
  time: '2026-06-01T10:00:00Z',
  data: { ...base, at: '2026-06-01T10:00:00Z' },
};
const cleared = (at: string, reason: 'recovered' | 'decommissioned' = 'recovered') =>
  ({
    ...envelope,
    id: `cleared-${at}`,
    type: EventType.alertCleared,
    time: at,
    data: { ...base, at, raisedAt: '2026-06-01T10:00:00.000Z', reason },
  }) satisfies EventOf<typeof EventType.alertCleared>;

const fold = (events: readonly (typeof raised | ReturnType<typeof cleared>)[]) =>
  events.reduce<AlertView | null>((view, event) => evolveAlert(view, event), null);

describe('evolveAlert', () => {
  it('opens an alert when raised and closes it when cleared', () => {
    // given a raised alert
    expect(fold([raised])).toEqual({
      tenant: 'acme',
      alertId: base.alertId,
      kind: 'power-threshold',
      deviceId: 'plug-1',
      siteId: 'site-1',
      status: 'open',
      raisedAt: '2026-06-01T10:00:00.000Z',
      detail,
    });
    // when it is cleared, then it is cleared at that time, for that reason
    expect(fold([raised, cleared('2026-06-01T10:05:00Z')])).toMatchObject({
      status: 'cleared',
      raisedAt: '2026-06-01T10:00:00.000Z',
      clearedAt: '2026-06-01T10:05:00.000Z',
      clearReason: 'recovered',
      detail,
    });
  });

  it('keeps a cleared alert cleared, at its first clear, whatever is repeated after it', () => {
    const once = fold([raised, cleared('2026-06-01T10:05:00Z')]);
    const events = [
      raised,
      cleared('2026-06-01T10:05:00Z'),
      raised,
      cleared('2026-06-01T10:09:00Z'),
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events.slice(2))), (repeats) => {
        expect(fold([...events.slice(0, 2), ...repeats])).toEqual(once);
      }),
    );
  });

  it('files alerts per tenant and alert, and ignores other events', () => {
    expect(alertDocumentId(raised)).toBe(`acme/${base.alertId}`);
    const reading = {
      id: 'r',
      type: EventType.readingReported,
      source: 'test',
      subject: 'plug-1',
      time: '2026-06-01T10:00:00Z',
      tenant: 'acme',
      data: { deviceId: 'plug-1', powerW: 1, quality: 'good' as const },
    } satisfies EventOf<typeof EventType.readingReported>;
    expect(alertDocumentId(reading)).toBeUndefined();
    expect(evolveAlert(null, reading)).toBeNull();
  });
});
