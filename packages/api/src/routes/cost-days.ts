import type { Db } from 'mongodb';
import type { SiteCostDay } from '@gridstream/cost-core';
import type { DateRange } from './cost-calendar.ts';

/** The cost processor's collection (processors/cost): one document per site and local day. */
export const SITE_COST_DAYS_COLLECTION = 'site_cost_days';

export type SiteCostDayDocument = SiteCostDay & { readonly _id: string };

/** A site's stored cost days, as the routes read them (an in-memory one serves route tests). */
export interface SiteCostDays {
  /**
   * The site's days dated in `range`, in date order. Without `quarters` each day's quarter
   * hours are left out (an empty list): its `totals` are what a day bucket needs.
   */
  between(
    tenant: string,
    siteId: string,
    range: DateRange,
    options: { readonly quarters: boolean },
  ): Promise<SiteCostDay[]>;
  /**
   * The days in `range` of any of the tenant's sites that list the device (a device that moved
   * has days at each site), in date order, without the site's quarter hours; with its devices'
   * shares of them (`deviceQuarters`) only if `quarters`.
   */
  ofDevice(
    tenant: string,
    deviceId: string,
    range: DateRange,
    options: { readonly quarters: boolean },
  ): Promise<SiteCostDay[]>;
}

/**
 * The days in MongoDB. The index the processor creates is ensured on first use (createIndex of
 * an existing index changes nothing), so the API does not depend on which started first.
 */
export function mongoSiteCostDays(db: Db): SiteCostDays {
  const collection = db.collection<SiteCostDayDocument>(SITE_COST_DAYS_COLLECTION);
  let indexed: Promise<unknown> | undefined;
  return {
    async between(tenant, siteId, range, { quarters }) {
      indexed ??= collection
        .createIndex({ tenant: 1, siteId: 1, date: 1 })
        .catch((error: unknown) => {
          indexed = undefined;
          throw error;
        });
      await indexed;
      const documents = await collection
        .find(
          { tenant, siteId, date: { $gte: range.fromDate, $lt: range.toDate } },
          {
            projection: quarters
              ? { _id: 0, digest: 0, deviceQuarters: 0 }
              : { _id: 0, digest: 0, quarters: 0, deviceQuarters: 0 },
          },
        )
        .sort({ date: 1 })
        .toArray();
      return documents.map((document) => ({
        ...document,
        quarters: document.quarters ?? [],
        deviceQuarters: [],
      }));
    },
    async ofDevice(tenant, deviceId, range, { quarters }) {
      const documents = await collection
        .find(
          {
            tenant,
            'devices.deviceId': deviceId,
            date: { $gte: range.fromDate, $lt: range.toDate },
          },
          {
            projection: quarters
              ? { _id: 0, digest: 0, quarters: 0 }
              : { _id: 0, digest: 0, quarters: 0, deviceQuarters: 0 },
          },
        )
        .sort({ date: 1, siteId: 1 })
        .toArray();
      return documents.map((document) => ({
        ...document,
        quarters: [],
        deviceQuarters: document.deviceQuarters ?? [],
      }));
    },
  };
}
