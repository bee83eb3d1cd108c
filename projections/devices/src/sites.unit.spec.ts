import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { EventOf, GridstreamEvent, TariffVersion } from '@gridstream/events';
import { devicesProjection } from './store.ts';
import { evolveSite, sitesProjection } from './sites.ts';
import type { SiteView } from './sites.ts';

const tenant = 't1';
let n = 0;
function siteEvent<T extends EventType>(
  type: T,
  data: EventOf<T>['data'],
  time = '2026-12-05T10:00:00.000Z',
): GridstreamEvent {
  return {
    id: `e${++n}`,
    type,
    source: 'test',
    subject: 's1',
    time,
    tenant,
    data,
  } as GridstreamEvent;
}

const registered = (carbonZone?: string) =>
  siteEvent(EventType.siteRegistered, {
    siteId: 's1',
    name: 'Home',
    timeZone: 'Europe/Berlin',
    ...(carbonZone === undefined ? {} : { carbonZone }),
  });

function version(id: string, effectiveFrom: string, publishedAt: string): TariffVersion {
  return {
    id,
    effectiveFrom,
    publishedAt,
    currency: 'EUR',
    vatRate: '0.19',
    exportVatRate: '0',
    dailyFee: '0.50',
    importPrice: { kind: 'fixed', pricePerKWh: '0.30' },
    exportPrice: { kind: 'fixed', pricePerKWh: '0.08' },
  };
}
const published = (tariff: TariffVersion, actor = 'key:k1') =>
  siteEvent(EventType.siteTariffPublished, { siteId: 's1', tariff, actor }, tariff.publishedAt);

const fold = (events: readonly GridstreamEvent[]) =>
  events.reduce<SiteView | null>((state, event) => evolveSite(state, event), null);

describe('evolveSite: carbon zone', () => {
  it('keeps the zone of the registration, changes it, and removes it on null', () => {
    expect(fold([registered('DE')])?.carbonZone).toBe('DE');
    expect(fold([registered()])).not.toHaveProperty('carbonZone');
    const moved = siteEvent(EventType.siteUpdated, { siteId: 's1', carbonZone: 'AT' });
    expect(fold([registered('DE'), moved])?.carbonZone).toBe('AT');
    const renamed = siteEvent(EventType.siteUpdated, { siteId: 's1', name: 'Farm' });
    expect(fold([registered('DE'), renamed])).toMatchObject({ name: 'Farm', carbonZone: 'DE' });
    const removed = siteEvent(EventType.siteUpdated, { siteId: 's1', carbonZone: null });
    expect(fold([registered('DE'), removed])).not.toHaveProperty('carbonZone');
  });
});

describe('evolveSite: tariff versions', () => {
  const winter = version('v1', '2026-01-01T00:00:00Z', '2025-12-01T00:00:00Z');
  const summer = version('v2', '2026-07-01T00:00:00Z', '2026-06-01T00:00:00Z');
  const correction = version('v1b', '2026-01-01T00:00:00Z', '2025-12-15T00:00:00Z');

  it('lists the versions by effectiveFrom, then publication, whatever order they arrive in', () => {
    const inOrder = fold([
      registered(),
      published(winter),
      published(correction),
      published(summer),
    ]);
    const reversed = fold([
      registered(),
      published(summer),
      published(correction),
      published(winter),
    ]);
    expect(inOrder?.tariffs?.map((t) => t.id)).toEqual(['v1', 'v1b', 'v2']);
    expect(reversed?.tariffs).toEqual(inOrder?.tariffs);
  });

  it('changes nothing when a version is applied again (replay), or its id with other content', () => {
    const once = fold([registered(), published(winter), published(summer)]);
    expect(evolveSite(once, published(winter))).toBe(once);
    const other = { ...winter, dailyFee: '9.99' };
    expect(evolveSite(once, published(other))).toBe(once);
  });

  it('stamps who published it, and ignores a version of a site never registered', () => {
    const site = fold([registered(), published(winter, 'operator:ana')]);
    expect(site).toMatchObject({
      changedBy: 'operator:ana',
      changedAt: '2025-12-01T00:00:00.000Z',
    });
    expect(evolveSite(null, published(winter))).toBeNull();
  });

  it("is routed to the site's document by the sites projection", () => {
    const event = published(winter);
    expect(sitesProjection.documentId(event)).toBe('t1/s1');
  });

  // Keyed by the site id: a device document of that name would be an 'unregistered' device.
  it('is left alone by the devices projection', () => {
    expect(devicesProjection.documentId(published(winter))).toBeUndefined();
  });
});
