import { z } from 'zod';
import {
  currencySchema,
  decimalTextSchema,
  utcInstantSchema,
  zoneSchema,
} from './tariff-payloads.ts';

/**
 * Day-ahead prices and grid carbon intensity as published: one publication per zone and
 * batch of intervals, published possibly more than once for the same interval (a correction).
 * The latest publication wins per quarter hour (docs/cost.md, "Which publication wins").
 */

/** Minutes per point: 15 (the SDAC market time unit since delivery day 2025-10-01) or 60. */
export const resolutionMinutesSchema = z.union([z.literal(15), z.literal(60)]);
export type ResolutionMinutes = z.infer<typeof resolutionMinutesSchema>;

function pointsAligned(
  points: readonly { readonly start: string }[],
  resolutionMinutes: number,
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<number>();
  points.forEach((point, index) => {
    const startMs = Date.parse(point.start);
    if (Number.isNaN(startMs)) return; // refused by its own schema already
    if (startMs % (resolutionMinutes * 60_000) !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['points', index, 'start'],
        message: `a ${resolutionMinutes}-minute point starts on a multiple of ${resolutionMinutes} minutes (UTC)`,
      });
    }
    if (seen.has(startMs)) {
      ctx.addIssue({
        code: 'custom',
        path: ['points', index, 'start'],
        message: 'the same interval is given twice in one publication',
      });
    }
    seen.add(startMs);
  });
}

/** Exchanges publish day-ahead prices per MWh (ENTSO-E 12.1.D: currency/MWh); kept as given. */
export const pricePublicationSchema = z
  .object({
    id: z.string().min(1).max(128),
    biddingZone: zoneSchema,
    publishedAt: utcInstantSchema,
    currency: currencySchema,
    resolutionMinutes: resolutionMinutesSchema,
    points: z.array(z.object({ start: utcInstantSchema, pricePerMWh: decimalTextSchema })).min(1),
  })
  .superRefine((publication, ctx) => {
    pointsAligned(publication.points, publication.resolutionMinutes, ctx);
  });
export type PricePublication = z.infer<typeof pricePublicationSchema>;

/** Grid carbon intensity in gCO2e per kWh, per hour (or quarter hour) of a zone. */
export const carbonPublicationSchema = z
  .object({
    id: z.string().min(1).max(128),
    zone: zoneSchema,
    publishedAt: utcInstantSchema,
    resolutionMinutes: resolutionMinutesSchema,
    points: z
      .array(
        z.object({
          start: utcInstantSchema,
          gramsPerKWh: decimalTextSchema.refine((t) => !t.startsWith('-'), 'must not be negative'),
        }),
      )
      .min(1),
  })
  .superRefine((publication, ctx) => {
    pointsAligned(publication.points, publication.resolutionMinutes, ctx);
  });
export type CarbonPublication = z.infer<typeof carbonPublicationSchema>;
