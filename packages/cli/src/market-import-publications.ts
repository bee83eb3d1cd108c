import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { DEFAULT_TIME_PLAUSIBILITY, EventType, implausibleTime } from '@gridstream/events';
import type { CarbonPublication, EventOf, PricePublication } from '@gridstream/events';
import { isoInstantMs, utcText } from './market-import-csv.ts';
import type { SeriesPoint } from './market-import-csv.ts';
import type { CarbonPoint } from './market-import-carbon-csv.ts';
import type { PricePoint } from './market-import-prices-csv.ts';

/**
 * Points read from a file, as the publications `prices import` and `carbon import` publish
 * (docs/cost.md, "Importing prices and carbon intensity"): one per zone, UTC day, resolution
 * (and currency), its id derived from what it holds, so the same file gives the same
 * publications, byte for byte, however often it is imported.
 */

/**
 * The tenant market events carry. They are public data of no customer and apply to every
 * tenant's sites in their zone; a CloudEvent of gridstream needs a tenant all the same.
 */
export const MARKET_TENANT = 'public';

/** Event ids of imported publications: UUIDv5 of the type, publication id and publishedAt. */
const MARKET_IMPORT_NAMESPACE = '8d1f6a53-61c4-4f63-9a0e-3c52e1f0b7a4';

export const MARKET_IMPORT_SOURCE = {
  prices: '/cli/prices-import',
  carbon: '/cli/carbon-import',
} as const;

/** The UTC day of an instant, `2026-01-01`. */
function utcDay(instantMs: number): string {
  return new Date(instantMs).toISOString().slice(0, 10);
}

/** A publication id: zone, UTC day, resolution, and 128 bits of the content's sha256. */
export function publicationId(
  zone: string,
  day: string,
  resolutionMinutes: number,
  content: unknown,
): string {
  const digest = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32);
  return `${zone}:${day}:${resolutionMinutes}m:${digest}`;
}

function groupsOf<P extends SeriesPoint>(
  points: readonly P[],
  extraKey: (point: P) => string,
): P[][] {
  const groups = new Map<string, P[]>();
  for (const point of points) {
    const key = [point.zone, utcDay(point.startMs), point.resolutionMinutes, extraKey(point)].join(
      '\n',
    );
    const group = groups.get(key) ?? [];
    group.push(point);
    groups.set(key, group);
  }
  return [...groups]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, group]) => [...group].sort((a, b) => a.startMs - b.startMs));
}

/** The day-ahead price publications of a file's points, each stamped `publishedAt`. */
export function pricePublications(
  points: readonly PricePoint[],
  publishedAt: string,
): PricePublication[] {
  return groupsOf(points, (p) => p.currency).map((group) => {
    const [first] = group as [PricePoint, ...PricePoint[]];
    const body = {
      biddingZone: first.zone,
      currency: first.currency,
      resolutionMinutes: first.resolutionMinutes,
      points: group.map((p) => ({ start: utcText(p.startMs), pricePerMWh: p.pricePerMWh })),
    };
    const id = publicationId(first.zone, utcDay(first.startMs), first.resolutionMinutes, body);
    return {
      id,
      biddingZone: body.biddingZone,
      publishedAt,
      currency: body.currency,
      resolutionMinutes: body.resolutionMinutes,
      points: body.points,
    };
  });
}

/** The carbon-intensity publications of a file's points, each stamped `publishedAt`. */
export function carbonPublications(
  points: readonly CarbonPoint[],
  publishedAt: string,
): CarbonPublication[] {
  return groupsOf(points, () => '').map((group) => {
    const [first] = group as [CarbonPoint, ...CarbonPoint[]];
    const body = {
      zone: first.zone,
      resolutionMinutes: first.resolutionMinutes,
      points: group.map((p) => ({ start: utcText(p.startMs), gramsPerKWh: p.gramsPerKWh })),
    };
    const id = publicationId(first.zone, utcDay(first.startMs), first.resolutionMinutes, body);
    return {
      id,
      zone: body.zone,
      publishedAt,
      resolutionMinutes: body.resolutionMinutes,
      points: body.points,
    };
  });
}

export type MarketEvent =
  | EventOf<typeof EventType.dayAheadPricesPublished>
  | EventOf<typeof EventType.carbonIntensityPublished>;

/** A price publication as its event: keyed by zone, its time the publication's. */
export function priceEvent(publication: PricePublication): MarketEvent {
  return {
    id: uuidv5(
      `${EventType.dayAheadPricesPublished}\n${publication.id}\n${publication.publishedAt}`,
      MARKET_IMPORT_NAMESPACE,
    ),
    type: EventType.dayAheadPricesPublished,
    source: MARKET_IMPORT_SOURCE.prices,
    subject: publication.biddingZone,
    time: publication.publishedAt,
    tenant: MARKET_TENANT,
    data: publication,
  };
}

/** A carbon publication as its event: keyed by zone, its time the publication's. */
export function carbonEvent(publication: CarbonPublication): MarketEvent {
  return {
    id: uuidv5(
      `${EventType.carbonIntensityPublished}\n${publication.id}\n${publication.publishedAt}`,
      MARKET_IMPORT_NAMESPACE,
    ),
    type: EventType.carbonIntensityPublished,
    source: MARKET_IMPORT_SOURCE.carbon,
    subject: publication.zone,
    time: publication.publishedAt,
    tenant: MARKET_TENANT,
    data: publication,
  };
}

/**
 * The `publishedAt` of an import: `--published-at` where given, else the file's modification
 * time to the second. So the same file imported again publishes the same publications, and a
 * corrected file (downloaded or edited later) has a later publishedAt and wins. Throws a
 * RangeError for a time the event plausibility check would refuse (before 2000, or ahead of
 * the clock by more than five minutes: consumers dead-letter such an event).
 */
export function publishedAtOf(
  option: string | undefined,
  fileModifiedMs: number,
  nowMs: number,
): string {
  let instantMs: number;
  if (option === undefined) instantMs = Math.floor(fileModifiedMs / 1000) * 1000;
  else {
    const parsed = isoInstantMs(option, false);
    if (parsed === undefined)
      throw new RangeError(
        `--published-at ${JSON.stringify(option)}: an ISO 8601 instant with Z or an offset`,
      );
    instantMs = parsed;
  }
  const problem = implausibleTime(instantMs, nowMs, DEFAULT_TIME_PLAUSIBILITY);
  if (problem !== undefined)
    throw new RangeError(
      `publishedAt ${utcText(instantMs)} ${problem}${option === undefined ? " (the file's modification time): give --published-at" : ''}`,
    );
  return utcText(instantMs);
}
