import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catalogue } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { evolveDevice, evolveSite } from '@gridstream/projection-devices';
import type { DeviceView, SiteView } from '@gridstream/projection-devices';
import { decideRegistry, evolveDeviceFacts, evolveSiteFacts, subjectOf } from './decide.ts';
import type { DeviceFacts, RegistryCommand, RegistryFacts, SiteFacts } from './decide.ts';
import type { TariffVersionRequest } from './decide-tariff.ts';

const tenant = 't1';
const context = (n: number) => ({
  tenant,
  actor: 'key:k1',
  nowMs: Date.UTC(2026, 11, 5) + n * 1000,
  eventId: `e${n}`,
});

/** The write side in memory: facts per site and device, changed by each accepted event. */
class Registry {
  readonly sites = new Map<string, SiteFacts>();
  readonly devices = new Map<string, DeviceFacts>();
  readonly log: GridstreamEvent[] = [];

  facts(command: RegistryCommand): RegistryFacts {
    const subject = subjectOf(command);
    const device = subject.device === undefined ? undefined : this.devices.get(subject.device);
    const siteId = subject.site ?? device?.siteId;
    const site = siteId === undefined ? undefined : this.sites.get(siteId);
    const activeDevicesOnSite = [...this.devices.values()].filter(
      (d) => d.status === 'active' && d.siteId === siteId,
    ).length;
    return { site, device, activeDevicesOnSite };
  }

  run(command: RegistryCommand) {
    const decision = decideRegistry(command, this.facts(command), context(this.log.length));
    if (decision.kind === 'changed') {
      const event = decision.event;
      this.log.push(event);
      const subject = subjectOf(command);
      if (subject.device === undefined) {
        const next = evolveSiteFacts(this.sites.get(event.subject), event);
        if (next !== undefined) this.sites.set(event.subject, next);
      } else {
        const next = evolveDeviceFacts(this.devices.get(event.subject), event);
        if (next !== undefined) this.devices.set(event.subject, next);
      }
    }
    return decision;
  }
}

const siteIds = fc.constantFrom('s1', 's2');
const deviceIds = fc.constantFrom('d1', 'd2', 'd3');
const names = fc.constantFrom('A', 'B');
const location = fc.option(
  fc.record({ latitude: fc.constantFrom(48.1, 52.5), longitude: fc.constantFrom(11.5, 13.4) }),
  { nil: undefined },
);
const carbonZone = fc.option(fc.constantFrom('DE', 'AT'), { nil: undefined });

/** A fixed-price version: few ids, currencies and prices, so ids, slots and currencies clash. */
function tariffVersion(
  id: string,
  currency: string,
  pricePerKWh: string,
  effectiveFrom = '2026-01-01T00:00:00Z',
  publishedAt?: string,
): TariffVersionRequest {
  return {
    id,
    effectiveFrom,
    ...(publishedAt === undefined ? {} : { publishedAt }),
    currency,
    vatRate: '0.19',
    exportVatRate: '0',
    dailyFee: '0.50',
    importPrice: { kind: 'fixed', pricePerKWh },
    exportPrice: { kind: 'fixed', pricePerKWh: '0.08' },
  };
}
const tariff = fc
  .record({
    id: fc.constantFrom('v1', 'v2', 'v3'),
    currency: fc.constantFrom('EUR', 'CHF'),
    price: fc.constantFrom('0.30', '0.32'),
    effectiveFrom: fc.constantFrom('2026-01-01T00:00:00Z', '2026-07-01T00:00:00Z'),
    publishedAt: fc.option(fc.constantFrom('2025-12-01T00:00:00Z', '2025-12-02T00:00:00Z'), {
      nil: undefined,
    }),
  })
  .map(({ id, currency, price, effectiveFrom, publishedAt }) =>
    tariffVersion(id, currency, price, effectiveFrom, publishedAt),
  );
const command: fc.Arbitrary<RegistryCommand> = fc.oneof(
  fc.record({
    type: fc.constant('register-site' as const),
    siteId: siteIds,
    name: names,
    timeZone: fc.constantFrom('Europe/Berlin', 'America/New_York', 'Mars/Olympus'),
    location,
    carbonZone,
  }),
  fc.record({
    type: fc.constant('update-site' as const),
    siteId: siteIds,
    name: fc.option(names, { nil: undefined }),
    location: fc.option(location, { nil: null }),
    carbonZone: fc.option(carbonZone, { nil: null }),
  }),
  fc.record({ type: fc.constant('publish-tariff' as const), siteId: siteIds, tariff }),
  fc.record({ type: fc.constant('close-site' as const), siteId: siteIds }),
  fc.record({ type: fc.constant('reopen-site' as const), siteId: siteIds }),
  fc.record({
    type: fc.constant('register-device' as const),
    deviceId: deviceIds,
    siteId: siteIds,
    kind: fc.constantFrom('meter' as const, 'smart_plug' as const),
    role: fc.constantFrom('grid' as const, 'consumer' as const),
    name: names,
    ratedPowerW: fc.option(fc.constantFrom(3_000, 11_000), { nil: undefined }),
  }),
  fc.record({
    type: fc.constant('update-device' as const),
    deviceId: deviceIds,
    name: fc.option(names, { nil: undefined }),
    role: fc.option(fc.constantFrom('grid' as const, 'consumer' as const), { nil: undefined }),
  }),
  fc.record({ type: fc.constant('decommission-device' as const), deviceId: deviceIds }),
  fc.record({ type: fc.constant('restore-device' as const), deviceId: deviceIds }),
  fc.record({
    type: fc.constant('move-device' as const),
    deviceId: deviceIds,
    toSiteId: siteIds,
    // an hour or two back, or (refused) a year back or an hour ahead of the clock
    effectiveAt: fc
      .constantFrom(-7_200_000, -3_600_000, -1_800_000, -365 * 86_400_000, 3_600_000)
      .map((offsetMs) => new Date(Date.UTC(2026, 11, 5) + offsetMs).toISOString()),
  }),
);

/** The read models folded from the log, as a rebuild folds them. */
function rebuild(log: readonly GridstreamEvent[]) {
  const sites = new Map<string, SiteView | null>();
  const devices = new Map<string, DeviceView>();
  for (const event of log) {
    if (event.type.startsWith('gridstream.site.'))
      sites.set(event.subject, evolveSite(sites.get(event.subject) ?? null, event));
    else devices.set(event.subject, evolveDevice(devices.get(event.subject) ?? null, event));
  }
  return { sites, devices };
}

describe('decideRegistry', () => {
  it('leaves the read models, rebuilt from its events, equal to the facts it judged by (a property)', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
        const registry = new Registry();
        for (const c of commands) registry.run(c);
        const { sites, devices } = rebuild(registry.log);
        expect([...sites.keys()].sort()).toEqual([...registry.sites.keys()].sort());
        for (const [siteId, facts] of registry.sites) {
          const view = sites.get(siteId);
          expect(view).toMatchObject({
            siteId,
            name: facts.name,
            timeZone: facts.timeZone,
            status: facts.status,
          });
          expect(view?.location).toEqual(facts.location);
          expect(view?.carbonZone).toEqual(facts.carbonZone);
          expect(view?.tariffs).toEqual(facts.tariffs);
        }
        expect([...devices.keys()].sort()).toEqual([...registry.devices.keys()].sort());
        for (const [deviceId, facts] of registry.devices) {
          const { status, siteId, kind, role, name, timeZone, ratedPowerW, movedAt } =
            devices.get(deviceId) ?? {};
          expect({ status, siteId, kind, role, name, timeZone, ratedPowerW, movedAt }).toEqual({
            movedAt: facts.movedAt,
            status: facts.status,
            siteId: facts.siteId,
            kind: facts.kind,
            role: facts.role,
            name: facts.name,
            timeZone: facts.timeZone,
            ratedPowerW: facts.ratedPowerW,
          });
        }
      }),
    );
  });

  it('makes only events the catalogue accepts, each naming its actor (a property)', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 30 }), (commands) => {
        const registry = new Registry();
        for (const c of commands) registry.run(c);
        for (const event of registry.log) {
          expect(() => catalogue[event.type].schema.parse(event.data)).not.toThrow();
          expect((event.data as { actor?: string }).actor).toBe('key:k1');
        }
      }),
    );
  });

  it('changes nothing when a command is made twice: the second is unchanged or refused alike (a property)', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 30 }), command, (before, twice) => {
        const registry = new Registry();
        for (const c of before) registry.run(c);
        const first = registry.run(twice);
        const second = registry.run(twice);
        if (first.kind === 'refused') expect(second).toEqual(first);
        else expect(second.kind).toBe('unchanged');
      }),
    );
  });

  it('refuses by the rules: unknown site 404, id taken 409, closed site, unknown zone 400', () => {
    const registry = new Registry();
    const device = {
      type: 'register-device' as const,
      deviceId: 'd1',
      siteId: 's1',
      kind: 'meter' as const,
      role: 'grid' as const,
      name: 'M',
    };
    const refusal = (c: RegistryCommand) => {
      const decision = registry.run(c);
      return decision.kind === 'refused'
        ? [decision.refusal.code, decision.refusal.reason, decision.refusal.issues?.[0]?.path]
        : decision.kind;
    };
    expect(refusal(device)).toEqual(['NOT_FOUND', 'site-not-found', 'siteId']);
    expect(
      refusal({ type: 'register-site', siteId: 's1', name: 'S', timeZone: 'Nowhere/Else' }),
    ).toEqual(['VALIDATION', 'unknown-time-zone', 'timeZone']);
    expect(refusal({ type: 'register-site', siteId: 's1', name: 'S', timeZone: 'UTC' })).toBe(
      'changed',
    );
    expect(refusal(device)).toBe('changed');
    expect(refusal({ ...device, name: 'Other' })).toEqual(['CONFLICT', 'device-id-taken', 'name']);
    expect(refusal({ type: 'close-site', siteId: 's1' })).toEqual([
      'CONFLICT',
      'site-has-active-devices',
      undefined,
    ]);
    expect(refusal({ type: 'decommission-device', deviceId: 'd1' })).toBe('changed');
    expect(refusal({ type: 'close-site', siteId: 's1' })).toBe('changed');
    expect(refusal({ ...device, deviceId: 'd2' })).toEqual(['CONFLICT', 'site-closed', 'siteId']);
    expect(refusal({ type: 'restore-device', deviceId: 'd1' })).toEqual([
      'CONFLICT',
      'site-closed',
      undefined,
    ]);
    const move = (toSiteId: string, minutesAgo: number): RegistryCommand => ({
      type: 'move-device',
      deviceId: 'd1',
      toSiteId,
      effectiveAt: new Date(Date.UTC(2026, 11, 5) - minutesAgo * 60_000).toISOString(),
    });
    // d1 is decommissioned: it cannot move
    expect(refusal(move('s1', 10))).toEqual(['CONFLICT', 'device-decommissioned', undefined]);
    expect(refusal({ type: 'reopen-site', siteId: 's1' })).toBe('changed');
    expect(refusal({ type: 'restore-device', deviceId: 'd1' })).toBe('changed');
    expect(refusal(move('s2', 10))).toEqual(['NOT_FOUND', 'site-not-found', 'toSiteId']);
    expect(
      refusal({ type: 'register-site', siteId: 's2', name: 'T', timeZone: 'Asia/Tokyo' }),
    ).toBe('changed');
    expect(refusal(move('s2', 60 * 24 * 40))).toEqual([
      'VALIDATION',
      'invalid-effective-time',
      'effectiveAt',
    ]);
    expect(refusal(move('s2', 30))).toBe('changed');
    expect(registry.devices.get('d1')).toMatchObject({ siteId: 's2', timeZone: 'Asia/Tokyo' });
    expect(refusal(move('s2', 20))).toBe('unchanged');
    expect(refusal(move('s1', 40))).toEqual(['CONFLICT', 'move-out-of-order', 'effectiveAt']);
    expect(refusal(move('s1', 20))).toBe('changed');
    expect(refusal({ type: 'update-device', deviceId: 'd9', name: 'x' })).toEqual([
      'NOT_FOUND',
      'device-not-found',
      undefined,
    ]);
  });
});

describe('decideRegistry: tariff versions', () => {
  const site = { type: 'register-site' as const, siteId: 's1', name: 'S', timeZone: 'UTC' };
  const publish = (tariff: TariffVersionRequest): RegistryCommand => ({
    type: 'publish-tariff',
    siteId: 's1',
    tariff,
  });
  const outcome = (decision: ReturnType<typeof decideRegistry>) =>
    decision.kind === 'refused'
      ? [decision.refusal.code, decision.refusal.reason, decision.refusal.issues?.[0]?.path]
      : decision.kind;

  it('publishes a version with the time it was accepted, unless it names one', () => {
    const registry = new Registry();
    registry.run(site);
    const decision = registry.run(publish(tariffVersion('v1', 'EUR', '0.30')));
    expect(decision.kind).toBe('changed');
    const event = registry.log.at(-1);
    expect(event?.type).toBe('gridstream.site.tariff-published.v1');
    expect(event?.data).toMatchObject({
      siteId: 's1',
      actor: 'key:k1',
      tariff: { id: 'v1', currency: 'EUR', publishedAt: event?.time },
    });
    registry.run(
      publish(tariffVersion('v2', 'EUR', '0.32', '2026-07-01T00:00:00Z', '2026-06-01T08:00:00Z')),
    );
    expect(registry.sites.get('s1')?.tariffs?.map((t) => [t.id, t.publishedAt])).toEqual([
      ['v1', event?.time],
      ['v2', '2026-06-01T08:00:00Z'],
    ]);
  });

  it('refuses a version in a currency other than the site tariff (409 naming both)', () => {
    const registry = new Registry();
    registry.run(site);
    expect(outcome(registry.run(publish(tariffVersion('v1', 'EUR', '0.30'))))).toBe('changed');
    const decision = registry.run(
      publish(tariffVersion('v2', 'CHF', '0.30', '2026-07-01T00:00:00Z')),
    );
    expect(outcome(decision)).toEqual(['CONFLICT', 'tariff-currency-differs', 'currency']);
    expect(decision.kind === 'refused' && decision.refusal.message).toMatch(/EUR.*CHF/);
    expect(registry.sites.get('s1')?.tariffs).toHaveLength(1);
  });

  it('answers the same id with the same content unchanged, whatever its publishedAt', () => {
    const registry = new Registry();
    registry.run(site);
    registry.run(publish(tariffVersion('v1', 'EUR', '0.30')));
    const recorded = registry.sites.get('s1');
    expect(outcome(registry.run(publish(tariffVersion('v1', 'EUR', '0.30'))))).toBe('unchanged');
    const named = tariffVersion('v1', 'EUR', '0.30', undefined, '2020-01-01T00:00:00Z');
    // the same fields in another order are the same content
    const reordered = Object.fromEntries(Object.entries(named).reverse()) as TariffVersionRequest;
    expect(outcome(registry.run(publish(reordered)))).toBe('unchanged');
    expect(registry.sites.get('s1')).toBe(recorded);
  });

  it('refuses the same id with other content (409 naming the fields)', () => {
    const registry = new Registry();
    registry.run(site);
    registry.run(publish(tariffVersion('v1', 'EUR', '0.30')));
    expect(outcome(registry.run(publish(tariffVersion('v1', 'EUR', '0.31'))))).toEqual([
      'CONFLICT',
      'tariff-version-id-taken',
      'importPrice',
    ]);
  });

  it('refuses a version for an unknown site (404) and a closed one (409)', () => {
    const registry = new Registry();
    expect(outcome(registry.run(publish(tariffVersion('v1', 'EUR', '0.30'))))).toEqual([
      'NOT_FOUND',
      'site-not-found',
      'id',
    ]);
    registry.run(site);
    registry.run(publish(tariffVersion('v1', 'EUR', '0.30')));
    registry.run({ type: 'close-site', siteId: 's1' });
    expect(outcome(registry.run(publish(tariffVersion('v2', 'EUR', '0.30'))))).toEqual([
      'CONFLICT',
      'site-closed',
      undefined,
    ]);
    // what it published before is still the same request: unchanged
    expect(outcome(registry.run(publish(tariffVersion('v1', 'EUR', '0.30'))))).toBe('unchanged');
  });

  it('folds a tariff event applied twice, in the facts and the read model, once (replay)', () => {
    const registry = new Registry();
    registry.run(site);
    registry.run(publish(tariffVersion('v2', 'EUR', '0.32', '2026-07-01T00:00:00Z')));
    registry.run(publish(tariffVersion('v1', 'EUR', '0.30')));
    const twice = [...registry.log, ...registry.log.slice(1)];
    let facts: SiteFacts | undefined;
    for (const event of twice) facts = evolveSiteFacts(facts, event);
    expect(facts).toEqual(registry.sites.get('s1'));
    expect(facts?.tariffs?.map((t) => t.id)).toEqual(['v1', 'v2']);
    expect(rebuild(twice).sites.get('s1')?.tariffs).toEqual(facts?.tariffs);
  });

  it('keeps a carbon zone given at registration, changes it and removes it with null', () => {
    const registry = new Registry();
    registry.run({ ...site, carbonZone: 'DE' });
    expect(registry.sites.get('s1')?.carbonZone).toBe('DE');
    expect(outcome(registry.run({ ...site, carbonZone: 'AT' }))).toEqual([
      'CONFLICT',
      'site-id-taken',
      'carbonZone',
    ]);
    expect(outcome(registry.run({ type: 'update-site', siteId: 's1', carbonZone: 'DE' }))).toBe(
      'unchanged',
    );
    expect(outcome(registry.run({ type: 'update-site', siteId: 's1', carbonZone: 'AT' }))).toBe(
      'changed',
    );
    expect(registry.sites.get('s1')?.carbonZone).toBe('AT');
    expect(outcome(registry.run({ type: 'update-site', siteId: 's1', carbonZone: null }))).toBe(
      'changed',
    );
    expect(registry.sites.get('s1')).not.toHaveProperty('carbonZone');
    expect(outcome(registry.run({ type: 'update-site', siteId: 's1', carbonZone: null }))).toBe(
      'unchanged',
    );
    expect(
      outcome(registry.run({ type: 'update-site', siteId: 's1', carbonZone: 'no zone!' })),
    ).toEqual(['VALIDATION', 'invalid-carbon-zone', 'carbonZone']);
  });
});
