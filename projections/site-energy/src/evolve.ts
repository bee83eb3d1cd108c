import { localDate, siteEnergy } from '@gridstream/energy-core';
import type { SiteEnergy } from '@gridstream/energy-core';
import { EventType } from '@gridstream/events';
import type { DeviceRole, GridstreamEvent } from '@gridstream/events';

/** One device's 15-minute figures as last published (a correction replaces them). */
export interface SiteDayQuarter {
  readonly deviceId: string;
  readonly role: DeviceRole;
  readonly bucketStart: string;
  readonly importWh: number;
  readonly exportWh: number;
}

export interface SiteDayDevice {
  readonly deviceId: string;
  readonly role: DeviceRole;
  readonly importWh: number;
  readonly exportWh: number;
  readonly quarterHours: number;
}

/** A site's local day: its devices' quarter hours, their day sums, and the site figures. */
export interface SiteDayView {
  readonly tenant: string;
  readonly siteId: string;
  /** The local calendar day in the site's time zone, YYYY-MM-DD. */
  readonly date: string;
  readonly timeZone: string;
  readonly quarters: readonly SiteDayQuarter[];
  readonly devices: readonly SiteDayDevice[];
  readonly totals: SiteEnergy;
}

/** Which site-day document a 15-minute event changes; undefined for events it does not use. */
export function siteDayId(event: GridstreamEvent): string | undefined {
  if (event.type !== EventType.quarterHourEnergyComputed) return undefined;
  const { siteId, timeZone, bucketStart } = event.data;
  if (siteId === undefined || timeZone === undefined) return undefined;
  return `${event.tenant}/${siteId}/${localDate(Date.parse(bucketStart), timeZone)}`;
}

const byKey = (a: SiteDayQuarter, b: SiteDayQuarter) =>
  a.deviceId < b.deviceId
    ? -1
    : a.deviceId > b.deviceId
      ? 1
      : a.bucketStart < b.bucketStart
        ? -1
        : a.bucketStart > b.bucketStart
          ? 1
          : 0;

/**
 * Folds one device's 15-minute figures into its site's day. The quarter's entry is replaced,
 * never added to, so a corrected figure (published again after late data) makes the day right
 * again, and a redelivered one changes nothing. Sums are recomputed from the entries in a fixed
 * order, so they do not depend on the order events arrived in.
 */
export function evolveSiteDay(
  state: SiteDayView | null,
  event: GridstreamEvent,
): SiteDayView | null {
  if (event.type !== EventType.quarterHourEnergyComputed) return state;
  const { siteId, timeZone, role, deviceId, bucketStart, importWh, exportWh } = event.data;
  if (siteId === undefined || timeZone === undefined || role === undefined) return state;
  const bucket = new Date(bucketStart).toISOString();
  const quarter: SiteDayQuarter = { deviceId, role, bucketStart: bucket, importWh, exportWh };
  const quarters = [
    ...(state?.quarters ?? []).filter((q) => q.deviceId !== deviceId || q.bucketStart !== bucket),
    quarter,
  ].sort(byKey);
  const devices = new Map<string, SiteDayDevice>();
  for (const q of quarters) {
    const sum = devices.get(q.deviceId);
    devices.set(q.deviceId, {
      deviceId: q.deviceId,
      role: q.role,
      importWh: (sum?.importWh ?? 0) + q.importWh,
      exportWh: (sum?.exportWh ?? 0) + q.exportWh,
      quarterHours: (sum?.quarterHours ?? 0) + 1,
    });
  }
  const deviceList = [...devices.values()];
  return {
    tenant: event.tenant,
    siteId,
    date: localDate(Date.parse(bucketStart), timeZone),
    timeZone,
    quarters,
    devices: deviceList,
    totals: siteEnergy(
      deviceList.map((d) => ({
        deviceId: d.deviceId,
        role: d.role,
        energy: { importWh: d.importWh, exportWh: d.exportWh },
      })),
    ),
  };
}
