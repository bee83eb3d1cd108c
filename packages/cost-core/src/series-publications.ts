import type { CarbonPublication, PricePublication } from '@gridstream/events';
import { decimal } from './decimal.ts';
import type { CostSeries } from './quarter-hour-cost.ts';

/** Folds a day-ahead price publication into the series; returns the quarter hours it changed. */
export function applyPricePublication(series: CostSeries, p: PricePublication): number[] {
  return series.dayAheadPrices.apply(
    p.biddingZone,
    { publishedAtMs: Date.parse(p.publishedAt), id: p.id },
    p.resolutionMinutes,
    p.points.map((point) => ({
      startMs: Date.parse(point.start),
      value: { pricePerMWh: decimal(point.pricePerMWh), currency: p.currency },
    })),
  );
}

/** Folds a carbon-intensity publication into the series; returns the quarter hours it changed. */
export function applyCarbonPublication(series: CostSeries, p: CarbonPublication): number[] {
  return series.carbonIntensity.apply(
    p.zone,
    { publishedAtMs: Date.parse(p.publishedAt), id: p.id },
    p.resolutionMinutes,
    p.points.map((point) => ({
      startMs: Date.parse(point.start),
      value: decimal(point.gramsPerKWh),
    })),
  );
}
