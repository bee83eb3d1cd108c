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

/**
 * The device registry as every energy-processor instance holds it, folded from the devices
 * topic (a global table). A decommissioned device keeps its placement: its late readings still
 * belong to its site.
 */
export class DeviceRegistry {
  readonly #placements = new Map<string, DevicePlacement>();

  apply(event: GridstreamEvent): void {
    const key = `${event.tenant}/${event.subject}`;
    switch (event.type) {
      case EventType.deviceRegistered: {
        const { siteId, timeZone, kind, role, counterWrapWh } = event.data;
        this.#placements.set(key, {
          siteId,
          timeZone,
          kind,
          role,
          ...(counterWrapWh === undefined ? {} : { counterWrapWh }),
        });
        return;
      }
      case EventType.deviceUpdated: {
        const current = this.#placements.get(key);
        const role = event.data.role;
        if (current !== undefined && role !== undefined)
          this.#placements.set(key, { ...current, role });
        return;
      }
      default:
        return;
    }
  }

  placement(tenant: string, deviceId: string): DevicePlacement | undefined {
    return this.#placements.get(`${tenant}/${deviceId}`);
  }
}
