import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catalogue } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { evolveDevice, evolveSite } from '@gridstream/projection-devices';
import type { DeviceView, SiteView } from '@gridstream/projection-devices';
import { decideRegistry, evolveDeviceFacts, evolveSiteFacts, subjectOf } from './decide.ts';
import type { DeviceFacts, RegistryCommand, RegistryFacts, SiteFacts } from './decide.ts';

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
const command: fc.Arbitrary<RegistryCommand> = fc.oneof(
  fc.record({
    type: fc.constant('register-site' as const),
    siteId: siteIds,
    name: names,
    timeZone: fc.constantFrom('Europe/Berlin', 'America/New_York', 'Mars/Olympus'),
    location,
  }),
  fc.record({
    type: fc.constant('update-site' as const),
    siteId: siteIds,
    name: fc.option(names, { nil: undefined }),
    location: fc.option(location, { nil: null }),
  }),
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
