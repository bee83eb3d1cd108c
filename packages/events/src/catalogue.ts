import type { z } from 'zod';
import {
  AlertClearedV1,
  AlertRaisedV1,
  CommandRequestedV1,
  DeviceDecommissionedV1,
  DeviceRestoredV1,
  DeviceRegisteredV1,
  DeviceUpdatedV1,
  QuarterHourEnergyComputedV1,
  ReadingReportedV1,
} from './payloads.ts';

/** The logical topics; the Kafka layer adds the configured prefix. */
export type LogicalTopic = 'readings' | 'devices' | 'commands' | 'alerts' | 'energy';

/** Every event type, named `gridstream.<aggregate>.<event>.v<N>`. */
export const EventType = {
  readingReported: 'gridstream.reading.reported.v1',
  deviceRegistered: 'gridstream.device.registered.v1',
  deviceUpdated: 'gridstream.device.updated.v1',
  deviceDecommissioned: 'gridstream.device.decommissioned.v1',
  deviceRestored: 'gridstream.device.restored.v1',
  commandRequested: 'gridstream.command.requested.v1',
  quarterHourEnergyComputed: 'gridstream.energy.quarter-hour-computed.v1',
  alertRaised: 'gridstream.alert.raised.v1',
  alertCleared: 'gridstream.alert.cleared.v1',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** The payload type of each current event type. */
export interface EventDataByType {
  'gridstream.reading.reported.v1': ReadingReportedV1;
  'gridstream.device.registered.v1': DeviceRegisteredV1;
  'gridstream.device.updated.v1': DeviceUpdatedV1;
  'gridstream.device.decommissioned.v1': DeviceDecommissionedV1;
  'gridstream.device.restored.v1': DeviceRestoredV1;
  'gridstream.command.requested.v1': CommandRequestedV1;
  'gridstream.energy.quarter-hour-computed.v1': QuarterHourEnergyComputedV1;
  'gridstream.alert.raised.v1': AlertRaisedV1;
  'gridstream.alert.cleared.v1': AlertClearedV1;
}

export interface CatalogueEntry {
  readonly topic: LogicalTopic;
  readonly schema: z.ZodType;
  readonly description: string;
}

export const catalogue: { readonly [T in EventType]: CatalogueEntry } = {
  [EventType.readingReported]: {
    topic: 'readings',
    schema: ReadingReportedV1,
    description: 'A device measured power, energy counters or state of charge at the event time.',
  },
  [EventType.deviceRegistered]: {
    topic: 'devices',
    schema: DeviceRegisteredV1,
    description: 'A device joined a site.',
  },
  [EventType.deviceUpdated]: {
    topic: 'devices',
    schema: DeviceUpdatedV1,
    description: "A device's descriptive attributes changed.",
  },
  [EventType.deviceDecommissioned]: {
    topic: 'devices',
    schema: DeviceDecommissionedV1,
    description: 'A device left service; its history stays.',
  },
  [EventType.deviceRestored]: {
    topic: 'devices',
    schema: DeviceRestoredV1,
    description: 'A decommissioned device is back in service.',
  },
  [EventType.commandRequested]: {
    topic: 'commands',
    schema: CommandRequestedV1,
    description: 'Someone asked a device to do something.',
  },
  [EventType.quarterHourEnergyComputed]: {
    topic: 'energy',
    schema: QuarterHourEnergyComputedV1,
    description:
      "A device's energy in one 15-minute bucket; published again, corrected, when late data changes it.",
  },
  [EventType.alertRaised]: {
    topic: 'alerts',
    schema: AlertRaisedV1,
    description:
      'The alerts processor saw a device go offline, a data gap, a meter reset or power above its rating.',
  },
  [EventType.alertCleared]: {
    topic: 'alerts',
    schema: AlertClearedV1,
    description: "An alert's condition ended, or its device was decommissioned.",
  },
};

/**
 * An upcaster turns the payload of an older event version into the next version's.
 * Consumers only ever see the newest version; old events stay in the log unchanged.
 */
export interface Upcaster {
  readonly to: string;
  readonly upcast: (data: unknown) => unknown;
}

/** Old type -> how to reach the next version. Empty while every type is at v1. */
export const upcasters: Readonly<Record<string, Upcaster>> = {};

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(catalogue, type);
}
