import { EventType } from '@gridstream/events';
import type { DeviceKind, DeviceRole, GridstreamEvent } from '@gridstream/events';

/** What a reading needs from the registry: where it belongs and what the device is. */
export interface DevicePlacement {
  readonly siteId: string;
  readonly timeZone: string;
  readonly kind: DeviceKind;
  readonly role: DeviceRole;
  /** The counters' register size, if the registration gave one (rollover, docs/energy.md). */
  readonly counterWrapWh?: number;
}

/** A stretch of time in which a device belonged to one site: [fromMs, toMs). */
export interface PlacedSpan {
  readonly fromMs: number;
  readonly toMs: number;
  readonly placement: DevicePlacement;
}

/** A device's sites over time: its registration's from the start, each move's from its instant. */
interface Placements {
  /** Ordered by `fromMs`; the first from -Infinity. */
  readonly spans: { fromMs: number; placement: DevicePlacement }[];
}

/**
 * The device registry as every energy-processor instance holds it, folded from the devices
 * topic (a global table). A decommissioned device keeps its placement: its late readings still
 * belong to its site. A moved device belongs to each site for the time it was there, so a
 * reading, or a quarter hour, goes to the site in force at its instant, whenever it arrives.
 */
export class DeviceRegistry {
  readonly #devices = new Map<string, Placements>();

  apply(event: GridstreamEvent): void {
    const key = `${event.tenant}/${event.subject}`;
    switch (event.type) {
      case EventType.deviceRegistered: {
        const { siteId, timeZone, kind, role, nameplate } = event.data;
        const counterWrapWh = nameplate?.counterWrapWh;
        const placement = {
          siteId,
          timeZone,
          kind,
          role,
          ...(counterWrapWh === undefined ? {} : { counterWrapWh }),
        };
        const current = this.#devices.get(key);
        // Registered again: its first site is this one; where it moved to since still holds.
        if (current === undefined)
          this.#devices.set(key, { spans: [{ fromMs: -Infinity, placement }] });
        else current.spans[0] = { fromMs: -Infinity, placement };
        return;
      }
      case EventType.deviceUpdated: {
        const current = this.#devices.get(key);
        const role = event.data.role;
        if (current === undefined || role === undefined) return;
        // the device's role, whichever site it is on
        for (const span of current.spans) span.placement = { ...span.placement, role };
        return;
      }
      case EventType.deviceMoved: {
        const current = this.#devices.get(key);
        if (current === undefined) return;
        const fromMs = Date.parse(event.data.effectiveAt);
        const before = this.placement(event.tenant, event.subject, fromMs - 1);
        if (before === undefined) return;
        const placement = {
          ...before,
          siteId: event.data.toSiteId,
          timeZone: event.data.timeZone,
        };
        // the same move applied again (the global table and the energy consumer both see it)
        const spans = current.spans.filter((s) => s.fromMs !== fromMs);
        spans.push({ fromMs, placement });
        spans.sort((a, b) => a.fromMs - b.fromMs);
        current.spans.splice(0, current.spans.length, ...spans);
        return;
      }
      default:
        return;
    }
  }

  /** Where the device is at `atMs` (by default: now, after its last move). */
  placement(tenant: string, deviceId: string, atMs = Infinity): DevicePlacement | undefined {
    const spans = this.#devices.get(`${tenant}/${deviceId}`)?.spans;
    if (spans === undefined) return undefined;
    let found: DevicePlacement | undefined;
    for (const span of spans) {
      if (span.fromMs > atMs) break;
      found = span.placement;
    }
    return found;
  }

  /**
   * The device's placements over [fromMs, toMs), one span per site it was on in that time, in
   * order: a single span unless it moved within it. Undefined for a device never registered.
   */
  spansDuring(
    tenant: string,
    deviceId: string,
    fromMs: number,
    toMs: number,
  ): PlacedSpan[] | undefined {
    const spans = this.#devices.get(`${tenant}/${deviceId}`)?.spans;
    if (spans === undefined) return undefined;
    const during: PlacedSpan[] = [];
    spans.forEach((span, i) => {
      const endMs = spans[i + 1]?.fromMs ?? Infinity;
      const start = Math.max(span.fromMs, fromMs);
      const end = Math.min(endMs, toMs);
      if (start >= end) return;
      const last = during.at(-1);
      // a move to the site it was already on changes nothing
      if (last !== undefined && last.placement.siteId === span.placement.siteId)
        during[during.length - 1] = { ...last, toMs: end };
      else during.push({ fromMs: start, toMs: end, placement: span.placement });
    });
    return during;
  }
}
