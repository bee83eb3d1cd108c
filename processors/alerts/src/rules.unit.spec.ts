import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EnergyReading } from '@gridstream/energy-core';
import { EventType } from '@gridstream/events';
import { initialAlertState } from './alert-state.ts';
import type { AlertSettings, AlertTransition, DeviceAlertState } from './alert-state.ts';
import { recordPublishedOffline, sweepOffline } from './offline-sweep.ts';
import { foldReading, foldRegistryEvent } from './rules.ts';
import type { RegistryEvent } from './rules.ts';

const settings: AlertSettings = {
  maxGapMs: 15 * 60_000,
  offlineAfterMs: 5 * 60_000,
};
const T0 = Date.parse('2026-06-01T10:00:00.000Z');
const minute = 60_000;

function reading(offsetMinutes: number, fields: Partial<EnergyReading> = {}): EnergyReading {
  return { deviceId: 'meter-1', timeMs: T0 + offsetMinutes * minute, quality: 'good', ...fields };
}

function registered(ratedPowerW?: number, counterWrapWh?: number): RegistryEvent {
  return {
    id: 'reg-1',
    type: EventType.deviceRegistered,
    source: 'test',
    subject: 'meter-1',
    time: '2026-06-01T00:00:00Z',
    tenant: 'acme',
    data: {
      deviceId: 'meter-1',
      siteId: 'site-1',
      kind: 'meter',
      role: 'grid',
      name: 'meter',
      timeZone: 'Europe/Berlin',
      nameplate: {
        ...(ratedPowerW === undefined ? {} : { ratedPowerW }),
        ...(counterWrapWh === undefined ? {} : { counterWrapWh }),
      },
    },
  };
}

function lifecycle(
  type: typeof EventType.deviceDecommissioned | typeof EventType.deviceRestored,
  time: string,
): RegistryEvent {
  return {
    id: `${type}-${time}`,
    type,
    source: 'test',
    subject: 'meter-1',
    time,
    tenant: 'acme',
    data: { deviceId: 'meter-1' },
  };
}

function foldAll(
  readings: readonly EnergyReading[],
  start: DeviceAlertState = foldRegistryEvent(
    initialAlertState('acme', 'meter-1'),
    registered(3000),
  ).state,
): { state: DeviceAlertState; transitions: AlertTransition[] } {
  let state = start;
  const transitions: AlertTransition[] = [];
  for (const r of readings) {
    const folded = foldReading(state, r, settings);
    state = folded.state;
    transitions.push(...folded.transitions);
  }
  return { state, transitions };
}

const summary = (transitions: readonly AlertTransition[]) =>
  transitions.map((t) => `${t.transition} ${t.data.kind} ${t.data.at}`);

describe('meter-reset', () => {
  it('is raised when a counter goes down and cleared when the counters move forward again', () => {
    // given a meter counting up, when its import counter drops from 5000 to 10
    const { transitions, state } = foldAll([
      reading(0, { importWh: 5000, exportWh: 100 }),
      reading(1, { importWh: 10, exportWh: 101 }),
    ]);
    // then one meter-reset alert opens, naming the counter and both values
    expect(transitions).toEqual([
      {
        transition: 'raised',
        data: {
          alertId: 'meter-1:meter-reset:2026-06-01T10:01:00.000Z',
          kind: 'meter-reset',
          deviceId: 'meter-1',
          siteId: 'site-1',
          at: '2026-06-01T10:01:00.000Z',
          detail: { counters: [{ counter: 'importWh', previousWh: 5000, newWh: 10 }] },
        },
      },
    ]);
    // when the next reading counts up normally, then it is cleared at that reading
    const next = foldReading(state, reading(2, { importWh: 12 }), settings);
    expect(summary(next.transitions)).toEqual(['cleared meter-reset 2026-06-01T10:02:00.000Z']);
    expect(next.transitions[0]?.data).toMatchObject({
      raisedAt: '2026-06-01T10:01:00.000Z',
      reason: 'recovered',
    });
    expect(next.state.open).toEqual([]);
  });

  it('is not raised again by a second drop while open, nor cleared by a reading without counters', () => {
    const { transitions } = foldAll([
      reading(0, { importWh: 5000 }),
      reading(1, { importWh: 10 }),
      reading(2, { powerW: 100 }),
      reading(3, { importWh: 5 }),
    ]);
    expect(summary(transitions)).toEqual(['raised meter-reset 2026-06-01T10:01:00.000Z']);
  });

  it("uses the energy core rule: a rollover of the device's register is no reset", () => {
    // given a meter registered with a register that wraps at 100 000 Wh
    const start = foldRegistryEvent(
      initialAlertState('acme', 'meter-1'),
      registered(undefined, 100_000),
    ).state;
    // when its counter goes from 99 900 Wh through the wrap to 50 Wh
    const first = foldReading(start, reading(0, { importWh: 99_900 }), settings);
    const wrapped = foldReading(first.state, reading(1, { importWh: 50 }), settings);
    // then nothing is raised, while a fall from the middle of the register is a reset
    expect(wrapped.transitions).toEqual([]);
    const fallen = foldReading(wrapped.state, reading(2, { importWh: 10 }), settings);
    expect(summary(fallen.transitions)).toEqual(['raised meter-reset 2026-06-01T10:02:00.000Z']);
  });

  it('calls every decrease a reset for a device registered without a register size', () => {
    const start = foldRegistryEvent(initialAlertState('acme', 'meter-1'), registered()).state;
    const first = foldReading(start, reading(0, { importWh: 99_900 }), settings);
    const wrapped = foldReading(first.state, reading(1, { importWh: 50 }), settings);
    expect(summary(wrapped.transitions)).toEqual(['raised meter-reset 2026-06-01T10:01:00.000Z']);
  });
});

describe('data-gap', () => {
  it('is raised at the start of a silence longer than the limit and cleared at its end', () => {
    const { transitions } = foldAll([reading(0, { powerW: 10 }), reading(20, { powerW: 10 })]);
    const gap = transitions.filter((t) => t.data.kind === 'data-gap');
    expect(summary(gap)).toEqual([
      'raised data-gap 2026-06-01T10:00:00.000Z',
      'cleared data-gap 2026-06-01T10:20:00.000Z',
    ]);
    expect(gap[0]?.data.detail).toEqual({
      from: '2026-06-01T10:00:00.000Z',
      to: '2026-06-01T10:20:00.000Z',
      gapMs: 20 * minute,
      maxGapMs: 15 * minute,
    });
  });

  it('is not raised for a silence of exactly the limit', () => {
    const { transitions } = foldAll([reading(0, { powerW: 10 }), reading(15, { powerW: 10 })]);
    expect(transitions.filter((t) => t.data.kind === 'data-gap')).toEqual([]);
  });
});

describe('power-threshold', () => {
  it('is raised above the rating and cleared only at 95 % of it or below (hysteresis)', () => {
    // given a rating of 3000 W
    const { transitions } = foldAll([
      reading(0, { powerW: 3000 }),
      reading(1, { powerW: 3200 }),
      reading(2, { powerW: 2900 }),
      reading(3, { powerW: 2850 }),
    ]);
    // then 3000 W is not above it, 3200 W raises, 2900 W (96.7 %) keeps it, 2850 W (95 %) clears
    expect(summary(transitions)).toEqual([
      'raised power-threshold 2026-06-01T10:01:00.000Z',
      'cleared power-threshold 2026-06-01T10:03:00.000Z',
    ]);
    expect(transitions[0]?.data.detail).toEqual({ powerW: 3200, ratedPowerW: 3000 });
  });

  it('judges the magnitude: an inverter exporting more than its rating is over it too', () => {
    const { transitions } = foldAll([reading(0, { powerW: -3500 })]);
    expect(summary(transitions)).toEqual(['raised power-threshold 2026-06-01T10:00:00.000Z']);
  });

  it('sums the phases when a reading has no total power', () => {
    const { transitions } = foldAll([
      reading(0, { phasePowersW: { l1: 1200, l2: 1200, l3: 1200 } }),
    ]);
    expect(summary(transitions)).toEqual(['raised power-threshold 2026-06-01T10:00:00.000Z']);
  });

  it('is never raised for a device without a rating, and follows a changed rating', () => {
    const unrated = foldRegistryEvent(initialAlertState('acme', 'meter-1'), registered()).state;
    expect(foldAll([reading(0, { powerW: 1e9 })], unrated).transitions).toEqual([]);
    const updated = foldRegistryEvent(unrated, {
      id: 'upd-1',
      type: EventType.deviceUpdated,
      source: 'test',
      subject: 'meter-1',
      time: '2026-06-01T00:00:00Z',
      tenant: 'acme',
      data: { deviceId: 'meter-1', ratedPowerW: 100 },
    }).state;
    expect(summary(foldAll([reading(0, { powerW: 101 })], updated).transitions)).toEqual([
      'raised power-threshold 2026-06-01T10:00:00.000Z',
    ]);
  });
});

describe('device-offline', () => {
  it('is raised by the sweep once the silence passes the limit, from the limit on, and cleared by the next reading', () => {
    const { state } = foldAll([reading(0, { powerW: 10 })]);
    // when the sweep runs 5 minutes after the reading, then the device is still online
    expect(sweepOffline(state, T0 + 5 * minute, settings).transitions).toEqual([]);
    // when it runs later, then device-offline opens at reading + 5 minutes
    const swept = sweepOffline(state, T0 + 7 * minute, settings);
    expect(summary(swept.transitions)).toEqual(['raised device-offline 2026-06-01T10:05:00.000Z']);
    expect(swept.state.watchOffline).toBe(false);
    // and a second sweep raises nothing more
    expect(sweepOffline(swept.state, T0 + 9 * minute, settings).transitions).toEqual([]);
    // when a reading arrives, then it clears the alert at its time
    const back = foldReading(swept.state, reading(8, { powerW: 10 }), settings);
    expect(summary(back.transitions)).toEqual(['cleared device-offline 2026-06-01T10:08:00.000Z']);
    expect(back.state.watchOffline).toBe(true);
  });

  it('is raised and cleared by the reading itself when no sweep saw the silence, with the same alert', () => {
    const { state } = foldAll([reading(0, { powerW: 10 })]);
    const swept = sweepOffline(state, T0 + 7 * minute, settings);
    const unswept = foldReading(state, reading(8, { powerW: 10 }), settings);
    expect(unswept.transitions.map((t) => t.transition)).toEqual(['raised', 'cleared']);
    expect(unswept.transitions[0]).toEqual(swept.transitions[0]);
  });

  it('is cleared no earlier than it began, when the sweep ran ahead of a lagging consumer', () => {
    // given the sweep raised it from 10:05 while a reading measured at 10:04 was still in Kafka
    const { state } = foldAll([reading(0, { powerW: 10 })]);
    const swept = sweepOffline(state, T0 + 7 * minute, settings);
    const back = foldReading(swept.state, reading(4, { powerW: 10 }), settings);
    expect(summary(back.transitions)).toEqual(['cleared device-offline 2026-06-01T10:05:00.000Z']);
  });

  it('records an alert the sweep published into a state another writer changed', () => {
    const { state } = foldAll([reading(0, { powerW: 10 })]);
    const raised = sweepOffline(state, T0 + 7 * minute, settings).transitions[0];
    if (raised?.transition !== 'raised' || raised.data.kind !== 'device-offline')
      throw new Error('expected a device-offline alert');
    // same newest reading: the alert is open, nothing more to publish
    const same = recordPublishedOffline(state, raised.data);
    expect(same.transitions).toEqual([]);
    expect(same.state.open).toEqual([raised.data]);
    // a newer reading folded meanwhile (within the limit): the alert is cleared at once
    const newer = foldReading(state, reading(3, { powerW: 10 }), settings).state;
    expect(summary(recordPublishedOffline(newer, raised.data).transitions)).toEqual([
      'cleared device-offline 2026-06-01T10:05:00.000Z',
    ]);
  });
});

describe('late readings and the lifecycle', () => {
  it('raises nothing for a reading at or before the newest one, and forgets nothing', () => {
    const { state } = foldAll([reading(10, { importWh: 500, powerW: 10 })]);
    const late = foldReading(state, reading(5, { importWh: 1, powerW: 9999 }), settings);
    const duplicate = foldReading(state, reading(10, { importWh: 1 }), settings);
    expect(late).toEqual({ state, transitions: [] });
    expect(duplicate).toEqual({ state, transitions: [] });
  });

  it("raises a meter reset carried by a counter sent apart from the same instant's power, in either order", () => {
    // given a meter whose gateway sends power and counters as separate readings of one instant
    const before = [reading(0, { importWh: 5000 }), reading(0, { powerW: 10 })];
    const power = reading(1, { powerW: 20 });
    const counter = reading(1, { importWh: 3 });
    // when the counter that went down comes after, or before, the power of its instant
    for (const parts of [
      [power, counter],
      [counter, power],
    ]) {
      // then the reset is raised at that instant, once, and a copy of either part changes nothing
      const folded = foldAll([...before, ...parts, ...parts]);
      expect(summary(folded.transitions)).toEqual(['raised meter-reset 2026-06-01T10:01:00.000Z']);
    }
  });

  it('clears every open alert on decommissioning, raises nothing until restored, then starts afresh', () => {
    const { state } = foldAll([
      reading(0, { importWh: 5000, powerW: 10 }),
      reading(1, { importWh: 1, powerW: 4000 }),
    ]);
    expect(state.open.map((a) => a.kind)).toEqual(['meter-reset', 'power-threshold']);
    const gone = foldRegistryEvent(
      state,
      lifecycle(EventType.deviceDecommissioned, '2026-06-01T11:00:00Z'),
    );
    expect(summary(gone.transitions)).toEqual([
      'cleared meter-reset 2026-06-01T11:00:00.000Z',
      'cleared power-threshold 2026-06-01T11:00:00.000Z',
    ]);
    expect(
      gone.transitions.every((t) => 'reason' in t.data && t.data.reason === 'decommissioned'),
    ).toBe(true);
    const silent = foldAll([reading(90, { importWh: 0, powerW: 9000 })], gone.state);
    expect(silent.transitions).toEqual([]);
    expect(sweepOffline(silent.state, T0 + 1000 * minute, settings).transitions).toEqual([]);
    const restored = foldRegistryEvent(
      silent.state,
      lifecycle(EventType.deviceRestored, '2026-06-01T12:00:00Z'),
    ).state;
    // and a restored device starts afresh: hours of silence and a lower counter raise nothing
    expect(
      summary(foldAll([reading(300, { importWh: 0, powerW: 9000 })], restored).transitions),
    ).toEqual(['raised power-threshold 2026-06-01T15:00:00.000Z']);
  });
});

describe('properties', () => {
  const arbitraryReading = fc
    .record({
      offsetMinutes: fc.integer({ min: 0, max: 120 }),
      importWh: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined }),
      exportWh: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined }),
      powerW: fc.option(fc.integer({ min: -5_000, max: 5_000 }), { nil: undefined }),
    })
    .map(({ offsetMinutes, importWh, exportWh, powerW }) =>
      reading(offsetMinutes, {
        ...(importWh === undefined ? {} : { importWh }),
        ...(exportWh === undefined ? {} : { exportWh }),
        ...(powerW === undefined ? {} : { powerW }),
      }),
    );
  const readings = fc.array(arbitraryReading, { maxLength: 40 });

  it('gives the same alerts whether an instant comes as one reading or as its parts, in any order', () => {
    fc.assert(
      fc.property(readings, fc.array(fc.boolean()), (list, powerFirst) => {
        // (one reading per instant, in time order: the parts of one instant are what is varied)
        const distinct = [...new Map(list.map((r) => [r.timeMs, r])).values()].sort(
          (a, b) => a.timeMs - b.timeMs,
        );
        const split = distinct.flatMap((r, i) => {
          const { importWh, exportWh, powerW, ...base } = r;
          const parts: EnergyReading[] = [
            { ...base, ...(powerW === undefined ? {} : { powerW }) },
            {
              ...base,
              ...(importWh === undefined ? {} : { importWh }),
              ...(exportWh === undefined ? {} : { exportWh }),
            },
          ];
          return powerFirst[i % Math.max(1, powerFirst.length)] === false ? parts.reverse() : parts;
        });
        expect(summary(foldAll(split).transitions).sort()).toEqual(
          summary(foldAll(distinct).transitions).sort(),
        );
      }),
    );
  });

  it('duplicating readings changes no alert', () => {
    fc.assert(
      fc.property(readings, fc.array(fc.nat()), (list, picks) => {
        // each pick repeats a reading somewhere after itself (redelivered, or replayed late)
        const withDuplicates = [...list];
        for (const pick of picks) {
          const from = pick % Math.max(1, withDuplicates.length);
          const original = withDuplicates[from];
          if (original === undefined) break;
          const to = from + 1 + (pick % (withDuplicates.length - from));
          withDuplicates.splice(to, 0, original);
        }
        expect(foldAll(withDuplicates).transitions).toEqual(foldAll(list).transitions);
      }),
    );
  });

  it('clears every raised alert at most once, never one it did not raise, and keeps one open per kind', () => {
    fc.assert(
      fc.property(readings, fc.integer({ min: 0, max: 200 }), (list, sweepAtMinutes) => {
        let { state, transitions } = foldAll(list);
        const swept = sweepOffline(state, T0 + sweepAtMinutes * minute, settings);
        state = swept.state;
        transitions = [...transitions, ...swept.transitions];
        const more = foldAll(
          [reading(300, { powerW: 0, importWh: 20_000, exportWh: 20_000 })],
          state,
        );
        transitions = [...transitions, ...more.transitions];
        const raised = new Set<string>();
        const cleared = new Set<string>();
        for (const t of transitions) {
          if (t.transition === 'raised') {
            expect(raised.has(t.data.alertId)).toBe(false);
            raised.add(t.data.alertId);
          } else {
            expect(raised.has(t.data.alertId)).toBe(true);
            expect(cleared.has(t.data.alertId)).toBe(false);
            expect(Date.parse(t.data.at)).toBeGreaterThanOrEqual(Date.parse(t.data.raisedAt));
            cleared.add(t.data.alertId);
          }
        }
        const open = more.state.open.map((a) => a.kind);
        expect(new Set(open).size).toBe(open.length);
      }),
    );
  });

  it('never raises a reset twice for one drop, and raises one for the first drop while none is open', () => {
    fc.assert(
      fc.property(readings, (list) => {
        const { transitions } = foldAll(list);
        const resets = transitions.filter(
          (t) => t.transition === 'raised' && t.data.kind === 'meter-reset',
        );
        const byReading = new Map<string, number>();
        for (const t of resets) byReading.set(t.data.at, (byReading.get(t.data.at) ?? 0) + 1);
        expect([...byReading.values()].every((n) => n === 1)).toBe(true);
        // every raise is backed by a drop of a counter at that reading
        for (const t of resets) {
          if (t.data.kind !== 'meter-reset') continue;
          for (const c of t.data.detail.counters) expect(c.newWh).toBeLessThan(c.previousWh);
        }
      }),
    );
  });
});

describe('a device moved to another site', () => {
  it('raises its alerts from then on with the new site, its open ones left as they are', () => {
    const start = foldRegistryEvent(initialAlertState('acme', 'meter-1'), registered(3000)).state;
    const moved = foldRegistryEvent(start, {
      id: 'move-1',
      type: EventType.deviceMoved,
      source: 'test',
      subject: 'meter-1',
      time: '2026-06-02T00:00:00Z',
      tenant: 'acme',
      data: {
        deviceId: 'meter-1',
        fromSiteId: 'site-1',
        toSiteId: 'site-2',
        effectiveAt: '2026-06-02T00:00:00Z',
        timeZone: 'Europe/Paris',
      },
    });
    expect(moved.transitions).toEqual([]);
    expect(moved.state).toEqual({ ...start, siteId: 'site-2' });
  });
});

describe('two readings of one instant', () => {
  it('judge the power once: a redelivered second part raises nothing again', () => {
    // fast-check found it: over the rating, then -3001 W and 0 W at one instant, the first
    // redelivered after the second; the redelivery raised a new alert the original had not
    const list = [
      reading(0, { powerW: 3001 }),
      reading(106, { powerW: -3001 }),
      reading(106, { powerW: 0 }),
    ];
    const redelivered = [...list, reading(106, { powerW: -3001 })];
    expect(summary(foldAll(redelivered).transitions)).toEqual(summary(foldAll(list).transitions));
    // and the power-threshold alert stays open: the instant's first power is over the rating
    const transitions = summary(foldAll(list).transitions).filter((t) => t.includes('power'));
    expect(transitions).toEqual(['raised power-threshold 2026-06-01T10:00:00.000Z']);
  });
});
