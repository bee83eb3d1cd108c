import { toEnergyReading } from '@gridstream/energy-core';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import type { PositionedEvent } from '@gridstream/kafka';
import { isApplied } from '@gridstream/mongo';
import type { LogPosition, StoredDocument } from '@gridstream/mongo';
import { initialAlertState } from './alert-state.ts';
import type { AlertFold, AlertSettings, AlertTransition, DeviceAlertState } from './alert-state.ts';
import { foldReading, foldRegistryEvent } from './rules.ts';

export type DeviceStateDocument = StoredDocument<DeviceAlertState>;

/** Tenant first: device ids are only unique within a tenant. `/` cannot occur in either. */
export function deviceStateId(tenant: string, deviceId: string): string {
  return `${tenant}/${deviceId}`;
}

/** One device's write of a batch: its state and positions now, and the document they replace. */
export interface DeviceStateWrite {
  readonly id: string;
  readonly before: DeviceStateDocument | undefined;
  readonly state: DeviceAlertState;
  readonly positions: readonly LogPosition[];
}

/** What a batch does: the alerts to publish (in order) and one write per device it changed. */
export interface DeviceBatchPlan {
  readonly transitions: readonly {
    readonly tenant: string;
    readonly transition: AlertTransition;
  }[];
  readonly writes: readonly DeviceStateWrite[];
}

function foldEvent(
  state: DeviceAlertState,
  event: GridstreamEvent,
  settings: AlertSettings,
): AlertFold {
  switch (event.type) {
    case EventType.readingReported:
      return foldReading(state, toEnergyReading(Date.parse(event.time), event.data), settings);
    case EventType.deviceRegistered:
    case EventType.deviceUpdated:
    case EventType.deviceDecommissioned:
    case EventType.deviceRestored:
    case EventType.deviceMoved:
      return foldRegistryEvent(state, event);
    default:
      return { state, transitions: [] };
  }
}

/** Whether an event can change a device's alert state at all. */
export function concernsAlerts(event: GridstreamEvent): boolean {
  return foldsAlerts.has(event.type);
}
const foldsAlerts = new Set<string>([
  EventType.readingReported,
  EventType.deviceRegistered,
  EventType.deviceUpdated,
  EventType.deviceDecommissioned,
  EventType.deviceRestored,
  EventType.deviceMoved,
]);

/**
 * Folds a batch into the devices' stored states (pure). An event at or below the position a
 * device's document records for its partition was applied before (a batch redone after a crash)
 * and is skipped, so it neither changes the state nor raises anything twice.
 */
export function planDeviceBatch(
  stored: ReadonlyMap<string, DeviceStateDocument>,
  events: readonly PositionedEvent[],
  settings: AlertSettings,
): DeviceBatchPlan {
  const current = new Map<string, { state: DeviceAlertState; positions: LogPosition[] }>();
  const transitions: { tenant: string; transition: AlertTransition }[] = [];
  for (const { event, topic, partition, offset } of events) {
    if (!concernsAlerts(event)) continue;
    const id = deviceStateId(event.tenant, event.subject);
    let device = current.get(id);
    if (device === undefined) {
      const before = stored.get(id);
      device = {
        state: before?.state ?? initialAlertState(event.tenant, event.subject),
        positions: [...(before?._meta.positions ?? [])],
      };
    }
    const position = { topic, partition, offset };
    if (isApplied(device.positions, position)) continue;
    const folded = foldEvent(device.state, event, settings);
    for (const transition of folded.transitions)
      transitions.push({ tenant: event.tenant, transition });
    current.set(id, {
      state: folded.state,
      positions: [
        ...device.positions.filter((p) => p.topic !== topic || p.partition !== partition),
        position,
      ],
    });
  }
  const writes = [...current].map(([id, { state, positions }]) => ({
    id,
    before: stored.get(id),
    state,
    positions,
  }));
  return { transitions, writes };
}
