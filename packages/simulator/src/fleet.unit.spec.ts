import {
  DeviceKind,
  DeviceRegisteredV1,
  EntityId,
  ReadingReportedV1,
  tariffVersionSchema,
} from '@gridstream/events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createFleet,
  demoTariff,
  nextReading,
  PLUG_OVERLOAD_MS,
  PLUG_OVERLOAD_SHARE,
  seededRandom,
} from './fleet.ts';
import type { SimulatedDevice } from './fleet.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Every device's readings at `stepMs` intervals from `start`, `steps` times. */
function simulate(
  devices: SimulatedDevice[],
  start: Date,
  stepMs: number,
  steps: number,
  random: () => number,
): Map<string, ReadingReportedV1[]> {
  const readings = new Map<string, ReadingReportedV1[]>();
  for (let i = 1; i <= steps; i++) {
    const at = new Date(start.getTime() + i * stepMs);
    for (const device of devices) {
      const id = device.registration.deviceId;
      const list = readings.get(id) ?? [];
      list.push(nextReading(device, at, stepMs, random));
      readings.set(id, list);
    }
  }
  return readings;
}

describe('createFleet', () => {
  it('gives six devices per site, one of each kind', () => {
    // given three sites
    // when the fleet is created
    const fleet = createFleet(3, seededRandom(1));
    // then each site has one device of every kind
    expect(fleet).toHaveLength(18);
    for (const siteId of ['site-001', 'site-002', 'site-003']) {
      const kinds = fleet
        .filter((d) => d.registration.siteId === siteId)
        .map((d) => d.registration.kind);
      expect([...kinds].sort()).toEqual([...DeviceKind.options].sort());
    }
  });

  it('gives no devices for no sites', () => {
    expect(createFleet(0, seededRandom(1))).toEqual([]);
  });

  it('gives unique device ids that are valid entity ids', () => {
    const ids = createFleet(12, seededRandom(7)).map((d) => d.registration.deviceId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(EntityId.safeParse(id).success, id).toBe(true);
  });

  it('registers every device with a payload the catalogue accepts', () => {
    for (const device of createFleet(8, seededRandom(3))) {
      const parsed = DeviceRegisteredV1.safeParse(device.registration);
      expect(parsed.error?.issues ?? [], device.registration.deviceId).toEqual([]);
    }
  });

  it('starts every device with non-negative counters and a state of charge in 0..100', () => {
    for (const device of createFleet(4, seededRandom(5))) {
      expect(device.importWh).toBeGreaterThanOrEqual(0);
      expect(device.exportWh).toBeGreaterThanOrEqual(0);
      expect(device.socPct).toBeGreaterThanOrEqual(0);
      expect(device.socPct).toBeLessThanOrEqual(100);
    }
  });
});

describe('nextReading', () => {
  it('produces readings the catalogue accepts, for every kind, over a simulated day', () => {
    // given a fleet over all four time zones
    const random = seededRandom(42);
    const fleet = createFleet(4, random);
    // when it reports every five minutes for a day
    const readings = simulate(fleet, new Date('2026-06-21T00:00:00Z'), 5 * MINUTE_MS, 288, random);
    // then every reading of every kind passes the schema and keeps its device id
    const kinds = new Set(fleet.map((d) => d.registration.kind));
    expect(kinds.size).toBe(DeviceKind.options.length);
    for (const device of fleet) {
      const id = device.registration.deviceId;
      const list = readings.get(id) ?? [];
      expect(list).toHaveLength(288);
      for (const reading of list) {
        const parsed = ReadingReportedV1.safeParse(reading);
        expect(parsed.error?.issues ?? [], `${id} ${JSON.stringify(reading)}`).toEqual([]);
        expect(reading.deviceId).toBe(id);
      }
    }
  });

  it('never lets the cumulative counters fall between successive readings', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 1_000, max: 6 * 60 * MINUTE_MS }),
        fc.integer({ min: 0, max: 365 * DAY_MS }),
        (seed, stepMs, startOffsetMs) => {
          // given a seeded site and an arbitrary start and interval
          const random = seededRandom(seed);
          const fleet = createFleet(4, random);
          const start = new Date(Date.parse('2026-01-01T00:00:00Z') + startOffsetMs);
          // when the devices report 40 times
          const readings = simulate(fleet, start, stepMs, 40, random);
          // then no import or export counter ever goes down
          for (const list of readings.values()) {
            for (let i = 1; i < list.length; i++) {
              const before = list[i - 1];
              const after = list[i];
              if (before?.importWh !== undefined)
                expect(after?.importWh).toBeGreaterThanOrEqual(before.importWh);
              if (before?.exportWh !== undefined)
                expect(after?.exportWh).toBeGreaterThanOrEqual(before.exportWh);
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  // Local midnight and noon on 2026-01-15 in each zone the fleet uses, worked out by hand.
  const localInstants = [
    {
      siteId: 'site-001',
      zone: 'Europe/Berlin',
      midnight: '2026-01-14T23:00:00Z',
      noon: '2026-01-15T11:00:00Z',
    },
    {
      siteId: 'site-002',
      zone: 'Europe/London',
      midnight: '2026-01-15T00:00:00Z',
      noon: '2026-01-15T12:00:00Z',
    },
    {
      siteId: 'site-003',
      zone: 'America/New_York',
      midnight: '2026-01-15T05:00:00Z',
      noon: '2026-01-15T17:00:00Z',
    },
    {
      siteId: 'site-004',
      zone: 'Australia/Sydney',
      midnight: '2026-01-14T13:00:00Z',
      noon: '2026-01-15T01:00:00Z',
    },
  ];

  const solarOf = (siteId: string): SimulatedDevice => {
    const device = createFleet(4, seededRandom(9)).find(
      (d) => d.registration.siteId === siteId && d.registration.kind === 'solar_inverter',
    );
    if (device === undefined) throw new Error(`no solar inverter at ${siteId}`);
    return device;
  };

  it.each(localInstants)(
    'solar produces 0 W at local midnight in $zone',
    ({ siteId, zone, midnight }) => {
      // given the solar inverter of a site in that zone
      const device = solarOf(siteId);
      expect(device.registration.timeZone).toBe(zone);
      const exportWhBefore = device.exportWh;
      // when it reports at local midnight after an hour
      const reading = nextReading(device, new Date(midnight), 60 * MINUTE_MS, seededRandom(1));
      // then it produced nothing and exported nothing
      expect(reading.powerW).toBe(0);
      expect(device.exportWh).toBe(exportWhBefore);
    },
  );

  it.each(localInstants)('solar produces power at local noon in $zone', ({ siteId, noon }) => {
    const reading = nextReading(solarOf(siteId), new Date(noon), 60 * MINUTE_MS, seededRandom(1));
    // production flows out of the device, so its power is negative (docs/energy.md)
    expect(reading.powerW).toBeLessThan(0);
    expect(reading.powerW).toBeGreaterThanOrEqual(-8_000 * 1.1);
  });

  it('advances a counter by the energy of the interval', () => {
    // given a smart plug drawing power
    const random = seededRandom(11);
    const plug = createFleet(1, random).find((d) => d.registration.kind === 'smart_plug');
    if (plug === undefined) throw new Error('no smart plug');
    plug.importWh = 1_000;
    // when it reports after half an hour
    const reading = nextReading(plug, new Date('2026-01-15T12:00:00Z'), 30 * MINUTE_MS, random);
    // then its counter grew by power × 0.5 h
    expect(reading.importWh).toBe(Math.round(1_000 + (reading.powerW ?? 0) * 0.5));
  });

  it('is deterministic: the same seed gives the same fleet and the same readings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const run = () => {
          const random = seededRandom(seed);
          const fleet = createFleet(2, random);
          const readings = simulate(
            fleet,
            new Date('2026-03-29T00:00:00Z'),
            15 * MINUTE_MS,
            96,
            random,
          );
          return { registrations: fleet.map((d) => d.registration), readings: [...readings] };
        };
        expect(run()).toEqual(run());
      }),
      { numRuns: 5 },
    );
  });

  it('gives different readings for different seeds', () => {
    const run = (seed: number) => {
      const random = seededRandom(seed);
      return [
        ...simulate(
          createFleet(1, random),
          new Date('2026-03-29T00:00:00Z'),
          15 * MINUTE_MS,
          8,
          random,
        ),
      ];
    };
    expect(run(1)).not.toEqual(run(2));
  });
});

describe('seededRandom', () => {
  it('yields numbers in [0, 1)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const random = seededRandom(seed);
        for (let i = 0; i < 100; i++) {
          const x = random();
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThan(1);
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('a restarted fleet', () => {
  it('starts every counter above what its previous run could have reached', () => {
    // given a fleet that ran for a day at full rated power from its start
    const firstStart = new Date('2026-11-20T00:00:00Z');
    const first = createFleet(2, seededRandom(1), firstStart);
    const reached = first.map((d) => d.importWh + (d.registration.ratedPowerW ?? 0) * 24);
    // when the same fleet (same seed, same ids) starts again a day later
    const second = createFleet(2, seededRandom(1), new Date('2026-11-21T00:00:00Z'));
    // then no counter went backwards, so the restart never looks like a meter reset
    second.forEach((device, i) => {
      expect(device.registration.deviceId).toBe(first[i]?.registration.deviceId);
      expect(device.importWh).toBeGreaterThanOrEqual(reached[i] ?? Infinity);
    });
  });
});

describe('a smart plug of the simulated fleet', () => {
  it('is overloaded now and then, above its rating for a short while, then back under it', () => {
    // given a plug reading once a second for two hours
    const random = seededRandom(3);
    const plug = createFleet(1, random).find((d) => d.registration.kind === 'smart_plug');
    if (plug === undefined) throw new Error('the fleet has no smart plug');
    const ratedW = plug.registration.ratedPowerW ?? 0;
    const start = Date.UTC(2026, 10, 24, 12);
    const powers = Array.from(
      { length: 7200 },
      (_, i) => nextReading(plug, new Date(start + i * 1000), 1000, random).powerW ?? 0,
    );
    // then it was over its rating in a few stretches, each as long as an overload lasts
    const over = powers.map((w) => w > ratedW);
    const stretches = over.filter((o, i) => o && !over[i - 1]).length;
    expect(stretches).toBeGreaterThanOrEqual(5);
    expect(stretches).toBeLessThanOrEqual(60);
    expect(Math.max(...powers)).toBe(Math.round(ratedW * PLUG_OVERLOAD_SHARE));
    expect(over.filter(Boolean).length).toBe(stretches * (PLUG_OVERLOAD_MS / 1000));
    // and far under its rating on average, so its counter stays under createFleet's bound
    expect(powers.reduce((a, b) => a + b, 0) / powers.length).toBeLessThan(0.6 * ratedW);
  });
});

describe('every device of the simulated fleet but an overloaded plug', () => {
  it('stays within its rating at any hour, in every time zone', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 47 }),
        (seed, half) => {
          const random = seededRandom(seed);
          const at = new Date(Date.UTC(2026, 5, 21) + half * 30 * 60_000);
          for (const device of createFleet(4, random)) {
            if (device.registration.kind === 'smart_plug') continue;
            const { powerW = 0 } = nextReading(device, at, 1000, random);
            expect(Math.abs(powerW)).toBeLessThanOrEqual(device.registration.ratedPowerW ?? 0);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('demoTariff', () => {
  it('gives each simulated time zone a tariff version the API accepts, in its own currency', () => {
    const currencies = new Set<string>();
    for (const zone of ['Europe/Berlin', 'Europe/London', 'America/New_York', 'Australia/Sydney']) {
      const demo = demoTariff(zone);
      expect(demo, zone).toBeDefined();
      const parsed = tariffVersionSchema.safeParse(demo?.version);
      expect(parsed.success, `${zone}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      if (parsed.success) currencies.add(parsed.data.currency);
    }
    expect([...currencies].sort()).toEqual(['AUD', 'EUR', 'GBP', 'USD']);
    expect(demoTariff('Asia/Tokyo')).toBeUndefined();
  });
});
