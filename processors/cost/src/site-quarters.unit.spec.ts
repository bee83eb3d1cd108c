import { siteEnergy } from '@gridstream/energy-core';
import type { DeviceRole } from '@gridstream/events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SiteQuarters } from './site-quarters.ts';
import type { DeviceQuarter, SiteQuarter } from './site-quarters.ts';

const QUARTER_MS = 900_000;
// The last quarter hours of a UTC day and the first of the next: a device day's edge.
const FIRST_MS = Date.parse('2026-10-24T23:15:00Z');
const ROLES: Record<string, DeviceRole> = { meter: 'grid', pv: 'producer', load: 'consumer' };
const ZONES: Record<string, string> = { a: 'Europe/Berlin', b: 'Europe/London' };

const figures = fc
  .array(
    fc.record({
      deviceId: fc.constantFrom('meter', 'pv', 'load'),
      siteId: fc.constantFrom('a', 'b'),
      quarter: fc.integer({ min: 0, max: 5 }),
      // most figures cover a whole quarter hour; some a piece of one (a device moved in it)
      pieceMinutes: fc.constantFrom(0, 0, 0, 0, 5, 10),
      importWh: fc.double({ min: 0, max: 5_000, noNaN: true }),
      exportWh: fc.double({ min: 0, max: 5_000, noNaN: true }),
    }),
    { maxLength: 40 },
  )
  .map((drawn) =>
    drawn.map((f, offset): DeviceQuarter => ({
      tenant: 't',
      deviceId: f.deviceId,
      siteId: f.siteId,
      timeZone: ZONES[f.siteId] ?? 'UTC',
      role: ROLES[f.deviceId] ?? 'consumer',
      bucketStartMs: FIRST_MS + f.quarter * QUARTER_MS + f.pieceMinutes * 60_000,
      importWh: f.importWh,
      exportWh: f.exportWh,
      offset,
    })),
  );

const quarterOf = (ms: number) => Math.floor(ms / QUARTER_MS) * QUARTER_MS;
const keyOf = (d: DeviceQuarter) => `${d.deviceId}@${d.bucketStartMs}`;

/** The oracle: each device bucket's figure with the highest offset, gathered by site quarter. */
function latestBySiteQuarter(all: readonly DeviceQuarter[]): Map<string, DeviceQuarter[]> {
  const latest = new Map<string, DeviceQuarter>();
  for (const f of all) {
    const held = latest.get(keyOf(f));
    if (held === undefined || held.offset < f.offset) latest.set(keyOf(f), f);
  }
  const bySite = new Map<string, DeviceQuarter[]>();
  for (const f of latest.values()) {
    const key = `${f.siteId}@${quarterOf(f.bucketStartMs)}`;
    bySite.set(key, [...(bySite.get(key) ?? []), f]);
  }
  for (const members of bySite.values())
    members.sort((x, y) => (keyOf(x) < keyOf(y) ? -1 : keyOf(x) > keyOf(y) ? 1 : 0));
  return bySite;
}

describe('SiteQuarters', () => {
  it("holds each device's latest figure and sums each site quarter hour from them, in any order of arrival and with redeliveries", () => {
    fc.assert(
      fc.property(
        figures.chain((all) =>
          fc.tuple(
            fc.constant(all),
            fc.shuffledSubarray([...all, ...all], { minLength: 2 * all.length }),
          ),
        ),
        ([all, delivered]) => {
          const quarters = new SiteQuarters();
          const emitted = new Map<string, SiteQuarter>();
          for (const f of delivered)
            for (const site of quarters.apply(f))
              emitted.set(`${site.siteId}@${site.figure.startMs}`, site);
          const expected = latestBySiteQuarter(all);
          for (const siteId of ['a', 'b'])
            for (let q = 0; q < 6; q++) {
              const startMs = FIRST_MS + q * QUARTER_MS;
              const members = expected.get(`${siteId}@${startMs}`) ?? [];
              expect(quarters.sharesOf('t', siteId, startMs)).toEqual(members);
              const sum = siteEnergy(
                members.map((d) => ({
                  deviceId: d.deviceId,
                  role: d.role,
                  energy: { importWh: d.importWh, exportWh: d.exportWh },
                })),
              );
              if (sum.gridImportWh === null) continue;
              // the last figure a site quarter hour was given is its members' sum
              expect(emitted.get(`${siteId}@${startMs}`)).toEqual({
                tenant: 't',
                siteId,
                timeZone: ZONES[siteId],
                figure: {
                  startMs,
                  importWh: sum.gridImportWh,
                  exportWh: sum.gridExportWh,
                  selfConsumedWh: sum.selfConsumedWh,
                  revision: members.reduce((total, d) => total + d.offset, 0),
                },
              });
            }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers no shares where no device has a figure, and refuses an older figure of a held quarter hour', () => {
    const quarters = new SiteQuarters();
    const figure: DeviceQuarter = {
      tenant: 't',
      deviceId: 'meter',
      siteId: 'a',
      timeZone: 'Europe/Berlin',
      role: 'grid',
      bucketStartMs: FIRST_MS,
      importWh: 250,
      exportWh: 0,
      offset: 7,
    };
    expect(quarters.sharesOf('t', 'a', FIRST_MS)).toEqual([]);
    expect(quarters.apply(figure)).toHaveLength(1);
    expect(quarters.apply({ ...figure, importWh: 999, offset: 6 })).toEqual([]);
    expect(quarters.sharesOf('t', 'a', FIRST_MS)).toEqual([figure]);
    expect(quarters.sharesOf('t', 'a', FIRST_MS + QUARTER_MS)).toEqual([]);
  });
});
