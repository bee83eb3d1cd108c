import type { DeviceShare, QuarterHourEnergy } from '@gridstream/cost-core';
import { siteEnergy } from '@gridstream/energy-core';
import type { DeviceRole } from '@gridstream/events';

/** One device's figure of one quarter hour, as the energy topic carries it, with its place there. */
export interface DeviceQuarter extends DeviceShare {
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
const DAY_MS = 86_400_000;
const QUARTERS_A_DAY = 96;
const quarterStart = (ms: number) => Math.floor(ms / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;

/** A site's figure of one quarter hour, computed afresh from its devices' latest figures. */
export interface SiteQuarter {
  readonly tenant: string;
  readonly siteId: string;
  readonly timeZone: string;
  readonly figure: QuarterHourEnergy;
}

/** Where a device's figure belongs: interned, so a device day refers to it by index. */
interface Place {
  readonly siteId: string;
  readonly timeZone: string;
  readonly role: DeviceRole;
}

/**
 * A device's figures of one UTC day, one slot a quarter hour, in one Float64Array: import Wh,
 * export Wh, the offset (-1: none) and the place's index, 96 of each.
 */
type DeviceDay = Float64Array;
const IMPORT = 0;
const EXPORT = QUARTERS_A_DAY;
const OFFSET = 2 * QUARTERS_A_DAY;
const PLACE = 3 * QUARTERS_A_DAY;

interface Device {
  readonly tenant: string;
  readonly deviceId: string;
  /** UTC day number → the device's quarter-hour figures that day. */
  readonly days: Map<number, DeviceDay>;
  /** Figures whose bucket starts inside a quarter hour (a move split it), by bucket start. */
  readonly pieces: Map<number, DeviceQuarter>;
}

/** The order of a site quarter's devices: by device id, then by bucket start as text. */
const memberOrder = (a: DeviceQuarter, b: DeviceQuarter): number => {
  const [x, y] = [`${a.deviceId}@${a.bucketStartMs}`, `${b.deviceId}@${b.bucketStartMs}`];
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * Sums devices into their site, per quarter hour. The energy topic is keyed by device, so a
 * site's devices arrive from several partitions in any order: each device keeps its latest
 * figure per quarter hour (by offset; a redelivery changes nothing), and the site's figure is
 * made from the devices' figures with energy-core's siteEnergy: grid import and export from the
 * grid meter, self-consumption from production minus export. A site without a grid meter's
 * figure for a quarter hour has no cost figure for it (what it imported is not known). A device
 * moved to another site leaves the quarter hours its new figures name to the new site.
 *
 * What it holds grows with history (docs/cost.md, "Bounds, honestly"), so it holds it in
 * columns: a device's day is one Float64Array of 384 numbers (about 32 bytes a device quarter
 * hour, where objects in maps took about 250), a site day the set of devices that had a figure
 * there. `sharesOf` makes a quarter hour's device figures as objects when a day is written.
 */
export class SiteQuarters {
  readonly #places: Place[] = [];
  readonly #placeIndex = new Map<string, number>();
  /** `${tenant}/${deviceId}` → the device. */
  readonly #devices = new Map<string, Device>();
  /** `${tenant}/${siteId}` → UTC day number → devices with a figure at the site that day. */
  readonly #sites = new Map<string, Map<number, Set<Device>>>();

  /** Folds a device's figure in; returns the site figures it changed. */
  apply(figure: DeviceQuarter): SiteQuarter[] {
    const device = this.#device(figure.tenant, figure.deviceId);
    const held = this.#held(device, figure.bucketStartMs);
    if (held !== undefined && held.offset >= figure.offset) return [];
    const place = this.#place(figure);
    const day = Math.floor(figure.bucketStartMs / DAY_MS);
    if (figure.bucketStartMs % QUARTER_HOUR_MS === 0) {
      let figures = device.days.get(day);
      if (figures === undefined) {
        figures = new Float64Array(4 * QUARTERS_A_DAY).fill(-1, OFFSET, PLACE);
        device.days.set(day, figures);
      }
      const slot = (figure.bucketStartMs - day * DAY_MS) / QUARTER_HOUR_MS;
      figures[IMPORT + slot] = figure.importWh;
      figures[EXPORT + slot] = figure.exportWh;
      figures[OFFSET + slot] = figure.offset;
      figures[PLACE + slot] = place;
    } else {
      device.pieces.set(figure.bucketStartMs, {
        ...this.#placed(device, place),
        bucketStartMs: figure.bucketStartMs,
        importWh: figure.importWh,
        exportWh: figure.exportWh,
        offset: figure.offset,
      });
    }
    this.#siteDay(figure.tenant, figure.siteId, day).add(device);
    const startMs = quarterStart(figure.bucketStartMs);
    const changed: SiteQuarter[] = [];
    if (held !== undefined && held.siteId !== figure.siteId)
      changed.push(...this.#figure(held.tenant, held.siteId, held.timeZone, startMs));
    changed.push(...this.#figure(figure.tenant, figure.siteId, figure.timeZone, startMs));
    return changed;
  }

  /** The devices' latest figures of a site's quarter hour, in member order. */
  sharesOf(tenant: string, siteId: string, startMs: number): DeviceQuarter[] {
    const day = Math.floor(startMs / DAY_MS);
    const slot = (startMs - day * DAY_MS) / QUARTER_HOUR_MS;
    const members: DeviceQuarter[] = [];
    for (const device of this.#sites.get(`${tenant}/${siteId}`)?.get(day) ?? []) {
      const figures = device.days.get(day);
      if (figures !== undefined && (figures[OFFSET + slot] ?? -1) >= 0) {
        const held = this.#slot(device, figures, slot, startMs);
        if (held.siteId === siteId) members.push(held);
      }
      for (const piece of device.pieces.values())
        if (quarterStart(piece.bucketStartMs) === startMs && piece.siteId === siteId)
          members.push(piece);
    }
    return members.sort(memberOrder);
  }

  #held(device: Device, bucketStartMs: number): DeviceQuarter | undefined {
    if (bucketStartMs % QUARTER_HOUR_MS !== 0) return device.pieces.get(bucketStartMs);
    const day = Math.floor(bucketStartMs / DAY_MS);
    const figures = device.days.get(day);
    const slot = (bucketStartMs - day * DAY_MS) / QUARTER_HOUR_MS;
    if (figures === undefined || (figures[OFFSET + slot] ?? -1) < 0) return undefined;
    return this.#slot(device, figures, slot, bucketStartMs);
  }

  #slot(device: Device, figures: DeviceDay, slot: number, bucketStartMs: number): DeviceQuarter {
    return {
      ...this.#placed(device, figures[PLACE + slot] ?? 0),
      bucketStartMs,
      importWh: figures[IMPORT + slot] ?? 0,
      exportWh: figures[EXPORT + slot] ?? 0,
      offset: figures[OFFSET + slot] ?? -1,
    };
  }

  #placed(device: Device, place: number) {
    const { siteId, timeZone, role } = this.#places[place] as Place;
    return { tenant: device.tenant, deviceId: device.deviceId, siteId, timeZone, role };
  }

  #device(tenant: string, deviceId: string): Device {
    const key = `${tenant}/${deviceId}`;
    let device = this.#devices.get(key);
    if (device === undefined) {
      device = { tenant, deviceId, days: new Map(), pieces: new Map() };
      this.#devices.set(key, device);
    }
    return device;
  }

  #place({ siteId, timeZone, role }: Place): number {
    const key = `${siteId}\u0000${timeZone}\u0000${role}`;
    let index = this.#placeIndex.get(key);
    if (index === undefined) {
      index = this.#places.push({ siteId, timeZone, role }) - 1;
      this.#placeIndex.set(key, index);
    }
    return index;
  }

  #siteDay(tenant: string, siteId: string, day: number): Set<Device> {
    const key = `${tenant}/${siteId}`;
    let days = this.#sites.get(key);
    if (days === undefined) {
      days = new Map();
      this.#sites.set(key, days);
    }
    let devices = days.get(day);
    if (devices === undefined) {
      devices = new Set();
      days.set(day, devices);
    }
    return devices;
  }

  #figure(tenant: string, siteId: string, timeZone: string, startMs: number): SiteQuarter[] {
    const members = this.sharesOf(tenant, siteId, startMs);
    const site = siteEnergy(
      members.map((d) => ({
        deviceId: d.deviceId,
        role: d.role,
        energy: { importWh: d.importWh, exportWh: d.exportWh },
      })),
    );
    if (site.gridImportWh === null || site.gridExportWh === null) return [];
    return [
      {
        tenant,
        siteId,
        timeZone,
        figure: {
          startMs,
          importWh: site.gridImportWh,
          exportWh: site.gridExportWh,
          selfConsumedWh: site.selfConsumedWh,
          // The same devices' figures give the same number, in any order of arrival; any
          // change of a member changes it (a newer offset is higher, a member gone is less).
          revision: members.reduce((sum, d) => sum + d.offset, 0),
        },
      },
    ];
  }
}
