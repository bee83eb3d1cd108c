import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  QUARTER_HOUR_MS,
  WINDOWS,
  costScenario,
  sortedInputs,
  tariffVersions,
} from './cost-arbitraries.ts';
import { BERLIN } from './cost-fixtures.ts';
import { SiteCostLedger } from './site-cost-ledger.ts';
import type { TariffVersion } from '@gridstream/events';

const { fromMs, quarters } = WINDOWS.fallBack;
const toMs = fromMs + quarters * QUARTER_HOUR_MS;

/** A version published after all others (so it wins a shared instant), effective at `quarter`. */
const lateVersion = fc
  .tuple(tariffVersions(fromMs, quarters), fc.integer({ min: 0, max: quarters - 1 }))
  .map(([[draft], quarter]): TariffVersion | undefined =>
    draft === undefined
      ? undefined
      : {
          ...draft,
          id: 'late',
          effectiveFrom: new Date(fromMs + quarter * QUARTER_HOUR_MS).toISOString(),
          publishedAt: '2027-01-01T00:00:00.000Z',
        },
  );

describe('a tariff version published late changes its own span and nothing else (issue 17, property b)', () => {
  it('changes exactly the quarter hours and local days from its effectiveFrom to the next version’s', () => {
    fc.assert(
      fc.property(costScenario(fromMs, quarters), lateVersion, (scenario, version) => {
        if (version === undefined) return;
        const ledger = new SiteCostLedger({ timeZone: BERLIN, carbonZone: 'DE' });
        for (const input of sortedInputs(scenario)) ledger.apply(input);
        const quarterBefore = ledger.quarterHours(fromMs, toMs);
        const daysBefore = ledger.days(fromMs - 86_400_000, toMs + 86_400_000);

        const [range] = ledger.apply({ kind: 'tariff_version', version });

        const effectiveMs = Date.parse(version.effectiveFrom);
        const nextMs = Math.min(
          Infinity,
          ...scenario.versions
            .map((v) => Date.parse(v.effectiveFrom))
            .filter((ms) => ms > effectiveMs),
        );
        expect(range).toEqual({ fromMs: effectiveMs, toMs: nextMs });
        const inSpan = (ms: number) => ms >= effectiveMs && ms < nextMs;

        const quarterAfter = ledger.quarterHours(fromMs, toMs);
        expect(quarterAfter.map((q) => q.startMs)).toEqual(quarterBefore.map((q) => q.startMs));
        quarterAfter.forEach((after, i) => {
          if (inSpan(after.startMs)) expect(after.tariffVersionId).toBe('late');
          else expect(JSON.stringify(after)).toBe(JSON.stringify(quarterBefore[i]));
        });

        // A day is touched by the version if one of its quarter hours with energy is in the span,
        // or its fee is (the fee follows the version in force at local midnight).
        const daysAfter = ledger.days(fromMs - 86_400_000, toMs + 86_400_000);
        daysAfter.forEach((after, i) => {
          const touched =
            inSpan(after.startMs) ||
            quarterAfter.some(
              (q) => q.startMs >= after.startMs && q.startMs < after.endMs && inSpan(q.startMs),
            );
          if (!touched) expect(JSON.stringify(after)).toBe(JSON.stringify(daysBefore[i]));
          if (inSpan(after.startMs))
            expect(after.fees.toString()).toBe(String(Number(version.dailyFee)));
        });
      }),
      { numRuns: 100 },
    );
  });
});
