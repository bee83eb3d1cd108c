import { EventType } from '@gridstream/events';
import type { DeviceKind, DeviceRole, GridstreamEvent, ReadingQuality } from '@gridstream/events';

export type DeviceStatus = 'active' | 'decommissioned' | 'unregistered';

export interface LastReading {
  readonly time: string;
  readonly eventId: string;
  readonly powerW?: number;
  readonly importWh?: number;
  readonly exportWh?: number;
  readonly socPct?: number;
  readonly quality: ReadingQuality;
}

/** One device as dashboards read it. Times are RFC 3339 strings in UTC. */
export interface DeviceView {
  readonly tenant: string;
  readonly deviceId: string;
  readonly status: DeviceStatus;
  readonly siteId?: string;
  readonly kind?: DeviceKind;
  readonly role?: DeviceRole;
  readonly name?: string;
  readonly timeZone?: string;
  readonly ratedPowerW?: number;
  readonly registeredAt?: string;
  readonly decommissionedAt?: string;
  readonly restoredAt?: string;
  readonly lastSeenAt?: string;
  readonly lastReading?: LastReading;
}

function initial(event: GridstreamEvent): DeviceView {
  return { tenant: event.tenant, deviceId: event.subject, status: 'unregistered' };
}

const isoUtc = (time: string) => new Date(time).toISOString();

/**
 * Folds one event into a device's view. Pure: the time it uses is the event's own.
 * Readings arrive in any order, so the last reading is the latest by measurement time, not
 * the latest delivered; a reading may arrive before the device's registration.
 */
export function evolveDevice(state: DeviceView | null, event: GridstreamEvent): DeviceView {
  const current = state ?? initial(event);
  switch (event.type) {
    case EventType.deviceRegistered: {
      const { deviceId: _deviceId, ...registry } = event.data;
      return {
        ...current,
        ...registry,
        status: current.status === 'decommissioned' ? 'decommissioned' : 'active',
        registeredAt: isoUtc(event.time),
      };
    }
    case EventType.deviceUpdated: {
      const { deviceId: _deviceId, ...changes } = event.data;
      return { ...current, ...changes };
    }
    case EventType.deviceDecommissioned:
      return { ...current, status: 'decommissioned', decommissionedAt: isoUtc(event.time) };
    case EventType.deviceRestored: {
      // Back in service; the time it was decommissioned stays as history.
      if (current.status !== 'decommissioned') return current;
      return {
        ...current,
        status: current.registeredAt === undefined ? 'unregistered' : 'active',
        restoredAt: isoUtc(event.time),
      };
    }
    case EventType.readingReported: {
      const time = isoUtc(event.time);
      if (current.lastReading !== undefined && current.lastReading.time >= time) return current;
      const { powerW, importWh, exportWh, socPct, quality } = event.data;
      const lastReading: LastReading = {
        time,
        eventId: event.id,
        quality,
        ...(powerW === undefined ? {} : { powerW }),
        ...(importWh === undefined ? {} : { importWh }),
        ...(exportWh === undefined ? {} : { exportWh }),
        ...(socPct === undefined ? {} : { socPct }),
      };
      return { ...current, lastSeenAt: time, lastReading };
    }
    case EventType.commandRequested:
    case EventType.quarterHourEnergyComputed:
      return current;
  }
}
