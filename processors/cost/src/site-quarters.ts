import type { DeviceShare, QuarterHourEnergy } from '@gridstream/cost-core';
import { siteEnergy } from '@gridstream/energy-core';
import type { DeviceRole } from '@gridstream/events';

/** One device's figure of one quarter hour, as the energy topic carries it, with its place there. */
export interface DeviceQuarter {
  readonly tenant: string;
  readonly deviceId: string;
  readonly siteId: string;
  readonly timeZone: string;
  readonly role: DeviceRole;
  /**
   * The figure's bucket start: a quarter hour, or inside one where a device moved (the energy
   * processor splits that quarter hour at the move, a piece per site).
   */
  readonly bucketStartMs: number;
  readonly importWh: number;
  readonly exportWh: number;
  /** Kafka offset of the event: a device's figures are on one partition, later is newer. */
  readonly offset: number;
}

const QUARTER_HOUR_MS = 15 * 60_000;
const quarterStart = (ms: number) => Math.floor(ms / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;

/** A site's figure of one quarter hour, computed afresh from its devices' latest figures. */
export interface SiteQuarter {
  readonly tenant: string;
  readonly siteId: string;
  readonly timeZone: string;
  readonly figure: QuarterHourEnergy;
  /** The devices the figure is made of, by id. */
  readonly devices: readonly DeviceShare[];
}

/**
 * Sums devices into their site, per quarter hour. The energy topic is keyed by device, so a
 * site's devices arrive from several partitions in any order: each device keeps its latest
 * figure per quarter hour (by offset; a redelivery changes nothing), and the site's figure is
 * made from the devices' figures with energy-core's siteEnergy: grid import and export from the
 * grid meter, self-consumption from production minus export. A site without a grid meter's
 * figure for a quarter hour has no cost figure for it (what it imported is not known). A device
 * moved to another site leaves the quarter hours its new figures name to the new site.
 */
export class SiteQuarters {
  /** `${tenant}/${deviceId}@${bucketStartMs}` → the device's latest figure. */
  readonly #devices = new Map<string, DeviceQuarter>();
  /** `${tenant}/${siteId}@${quarter start}` → its devices' figure keys. */
  readonly #sites = new Map<string, Set<string>>();

  /** Folds a device's figure in; returns the site figures it changed. */
  apply(quarter: DeviceQuarter): SiteQuarter[] {
    const deviceKey = `${quarter.tenant}/${quarter.deviceId}@${quarter.bucketStartMs}`;
    const held = this.#devices.get(deviceKey);
    if (held !== undefined && held.offset >= quarter.offset) return [];
    this.#devices.set(deviceKey, quarter);
    const changed: SiteQuarter[] = [];
    if (held !== undefined && held.siteId !== quarter.siteId) {
      const before = this.#siteKey(held);
      this.#sites.get(before)?.delete(deviceKey);
      changed.push(...this.#figure(held));
    }
    const siteKey = this.#siteKey(quarter);
    let members = this.#sites.get(siteKey);
    if (members === undefined) {
      members = new Set();
      this.#sites.set(siteKey, members);
    }
    members.add(deviceKey);
    changed.push(...this.#figure(quarter));
    return changed;
  }

  #siteKey(q: DeviceQuarter): string {
    return `${q.tenant}/${q.siteId}@${quarterStart(q.bucketStartMs)}`;
  }

  #figure(of: DeviceQuarter): SiteQuarter[] {
    const devices = [...(this.#sites.get(this.#siteKey(of)) ?? [])]
      .sort()
      .map((key) => this.#devices.get(key))
      .filter((d): d is DeviceQuarter => d !== undefined);
    const site = siteEnergy(
      devices.map((d) => ({
        deviceId: d.deviceId,
        role: d.role,
        energy: { importWh: d.importWh, exportWh: d.exportWh },
      })),
    );
    if (site.gridImportWh === null || site.gridExportWh === null) return [];
    return [
      {
        tenant: of.tenant,
        siteId: of.siteId,
        timeZone: of.timeZone,
        figure: {
          startMs: quarterStart(of.bucketStartMs),
          importWh: site.gridImportWh,
          exportWh: site.gridExportWh,
          selfConsumedWh: site.selfConsumedWh,
          // The same devices' figures give the same number, in any order of arrival.
          revision: devices.reduce((sum, d) => sum + d.offset, 0),
        },
        devices: devices.map((d) => ({
          deviceId: d.deviceId,
          role: d.role,
          importWh: d.importWh,
          exportWh: d.exportWh,
        })),
      },
    ];
  }
}
