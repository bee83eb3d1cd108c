import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SERVICES } from '../services.ts';
import { planFaults } from './faults-plan.ts';

const seeded = (seed: number) => {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
};

describe('planFaults', () => {
  it('plans a 10-minute run with issue 12 minimums: 20+ kills, every server out twice both ways', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), (seed) => {
        const plan = planFaults({ short: false, minutes: 10 }, 600_000, 30_000, seeded(seed));
        const kills = plan.filter((f) => f.kind === 'kill -9');
        expect(kills.length).toBeGreaterThanOrEqual(20);
        for (const { name } of SERVICES) expect(kills.some((f) => f.target === name)).toBe(true);
        for (const server of ['kafka', 'questdb', 'mongo'])
          for (const kind of ['outage (stop)', 'outage (SIGSTOP)'])
            expect(plan.filter((f) => f.target === server && f.kind === kind)).toHaveLength(1);
        expect(plan.filter((f) => f.kind === 'instance added').length).toBeGreaterThan(0);
        expect(plan.filter((f) => f.kind === 'instance removed').length).toBeGreaterThan(0);
        // every fault inside the load, outages never overlapping
        for (const f of plan) expect(f.atMs).toBeGreaterThanOrEqual(0);
        for (const f of plan) expect(f.atMs).toBeLessThan(600_000);
        const outages = plan
          .filter((f) => f.kind.startsWith('outage'))
          .sort((a, b) => a.atMs - b.atMs);
        for (let i = 1; i < outages.length; i++)
          expect(outages[i]?.atMs ?? 0).toBeGreaterThanOrEqual(
            (outages[i - 1]?.atMs ?? 0) + 30_000,
          );
      }),
    );
  });

  it('plans one of each fault for the short variant', () => {
    const plan = planFaults({ short: true, minutes: 10 }, 138_000, 6_000, seeded(7));
    expect(plan.filter((f) => f.kind === 'kill -9')).toHaveLength(SERVICES.length);
    expect(plan.filter((f) => f.kind.startsWith('outage'))).toHaveLength(6);
    expect(plan.filter((f) => f.kind === 'instance added')).toHaveLength(1);
    expect(plan.filter((f) => f.kind === 'instance removed')).toHaveLength(1);
  });

  it('adds kill -9 of single Kafka nodes on a cluster, apart from the other server faults', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), (seed) => {
        // given a cluster of three nodes and the short variant's eight serial slots
        const plan = planFaults(
          { short: true, minutes: 10, kafkaNodes: 3 },
          15_000 + 8 * 18_000 + 15_000,
          6_000,
          seeded(seed),
        );
        // then two nodes of the three are killed, and no server fault overlaps another
        const kills = plan.filter((f) => f.kind === 'broker kill -9');
        expect(kills).toHaveLength(2);
        for (const k of kills) expect(k.target).toMatch(/^kafka node [123]$/);
        const serial = plan
          .filter((f) => f.kind.startsWith('outage') || f.kind === 'broker kill -9')
          .sort((a, b) => a.atMs - b.atMs);
        expect(serial).toHaveLength(8);
        for (let i = 1; i < serial.length; i++)
          expect(serial[i]?.atMs ?? 0).toBeGreaterThanOrEqual((serial[i - 1]?.atMs ?? 0) + 6_000);
      }),
    );
  });

  it('kills no Kafka node of a single-node stack', () => {
    const plan = planFaults({ short: true, minutes: 10 }, 138_000, 6_000, seeded(3));
    expect(plan.filter((f) => f.kind === 'broker kill -9')).toHaveLength(0);
  });

  it('plans only the two node kills of a cluster with brokerFaultsOnly', () => {
    const plan = planFaults(
      { short: true, minutes: 10, kafkaNodes: 3, brokerFaultsOnly: true },
      15_000 + 2 * 18_000 + 15_000,
      6_000,
      seeded(11),
    );
    expect(plan.map((f) => f.kind)).toEqual(['broker kill -9', 'broker kill -9']);
  });
});
