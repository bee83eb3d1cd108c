import type { z } from 'zod';
import {
  AlertClearedV1,
  AlertRaisedV1,
  CommandAcknowledgedV1,
  CommandCancellationRequestedV1,
  CommandCancelledV1,
  CommandDispatchedV1,
  CommandExpiredV1,
  CommandFailedV1,
  CommandLateReportedV1,
  CommandRejectedV1,
  CommandReportedV1,
  CommandRequestedV1,
  CommandRetryScheduledV1,
  CommandSucceededV1,
  CommandTimedOutV1,
  DeviceDecommissionedV1,
  DeviceRestoredV1,
  DeviceRegisteredV2,
  DeviceUpdatedV1,
  QuarterHourEnergyComputedV1,
  ReadingReportedV1,
} from './payloads.ts';
import {
  DeviceMovedV1,
  SiteClosedV1,
  SiteRegisteredV1,
  SiteReopenedV1,
  SiteUpdatedV1,
} from './registry-payloads.ts';
import {
  CarbonIntensityPublishedV1,
  DayAheadPricesPublishedV1,
  SiteTariffPublishedV1,
} from './market-payloads.ts';
import { plainReading } from './plain-reading.ts';

/** The logical topics; the Kafka layer adds the configured prefix. */
export type LogicalTopic =
  'readings' | 'devices' | 'commands' | 'gateway' | 'alerts' | 'energy' | 'market';

/**
 * Every current event type, named `gridstream.<aggregate>.<event>.v<N>`: the newest version of
 * each, the one producers write and consumers see (older ones: upcasters.ts).
 */
export const EventType = {
  readingReported: 'gridstream.reading.reported.v1',
  deviceRegistered: 'gridstream.device.registered.v2',
  deviceUpdated: 'gridstream.device.updated.v1',
  deviceDecommissioned: 'gridstream.device.decommissioned.v1',
  deviceRestored: 'gridstream.device.restored.v1',
  deviceMoved: 'gridstream.device.moved.v1',
  siteRegistered: 'gridstream.site.registered.v1',
  siteUpdated: 'gridstream.site.updated.v1',
  siteClosed: 'gridstream.site.closed.v1',
  siteReopened: 'gridstream.site.reopened.v1',
  siteTariffPublished: 'gridstream.site.tariff-published.v1',
  dayAheadPricesPublished: 'gridstream.market.day-ahead-prices-published.v1',
  carbonIntensityPublished: 'gridstream.market.carbon-intensity-published.v1',
  commandRequested: 'gridstream.command.requested.v1',
  commandCancellationRequested: 'gridstream.command.cancellation-requested.v1',
  commandDispatched: 'gridstream.command.dispatched.v1',
  commandReported: 'gridstream.command.reported.v1',
  commandAcknowledged: 'gridstream.command.acknowledged.v1',
  commandSucceeded: 'gridstream.command.succeeded.v1',
  commandFailed: 'gridstream.command.failed.v1',
  commandRetryScheduled: 'gridstream.command.retry-scheduled.v1',
  commandTimedOut: 'gridstream.command.timed-out.v1',
  commandExpired: 'gridstream.command.expired.v1',
  commandCancelled: 'gridstream.command.cancelled.v1',
  commandLateReported: 'gridstream.command.late-reported.v1',
  commandRejected: 'gridstream.command.rejected.v1',
  quarterHourEnergyComputed: 'gridstream.energy.quarter-hour-computed.v1',
  alertRaised: 'gridstream.alert.raised.v1',
  alertCleared: 'gridstream.alert.cleared.v1',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** The payload type of each current event type. */
export interface EventDataByType {
  'gridstream.reading.reported.v1': ReadingReportedV1;
  'gridstream.device.registered.v2': DeviceRegisteredV2;
  'gridstream.device.updated.v1': DeviceUpdatedV1;
  'gridstream.device.decommissioned.v1': DeviceDecommissionedV1;
  'gridstream.device.restored.v1': DeviceRestoredV1;
  'gridstream.device.moved.v1': DeviceMovedV1;
  'gridstream.site.registered.v1': SiteRegisteredV1;
  'gridstream.site.updated.v1': SiteUpdatedV1;
  'gridstream.site.closed.v1': SiteClosedV1;
  'gridstream.site.reopened.v1': SiteReopenedV1;
  'gridstream.site.tariff-published.v1': SiteTariffPublishedV1;
  'gridstream.market.day-ahead-prices-published.v1': DayAheadPricesPublishedV1;
  'gridstream.market.carbon-intensity-published.v1': CarbonIntensityPublishedV1;
  'gridstream.command.requested.v1': CommandRequestedV1;
  'gridstream.command.cancellation-requested.v1': CommandCancellationRequestedV1;
  'gridstream.command.dispatched.v1': CommandDispatchedV1;
  'gridstream.command.reported.v1': CommandReportedV1;
  'gridstream.command.acknowledged.v1': CommandAcknowledgedV1;
  'gridstream.command.succeeded.v1': CommandSucceededV1;
  'gridstream.command.failed.v1': CommandFailedV1;
  'gridstream.command.retry-scheduled.v1': CommandRetryScheduledV1;
  'gridstream.command.timed-out.v1': CommandTimedOutV1;
  'gridstream.command.expired.v1': CommandExpiredV1;
  'gridstream.command.cancelled.v1': CommandCancelledV1;
  'gridstream.command.late-reported.v1': CommandLateReportedV1;
  'gridstream.command.rejected.v1': CommandRejectedV1;
  'gridstream.energy.quarter-hour-computed.v1': QuarterHourEnergyComputedV1;
  'gridstream.alert.raised.v1': AlertRaisedV1;
  'gridstream.alert.cleared.v1': AlertClearedV1;
}

export interface CatalogueEntry {
  readonly topic: LogicalTopic;
  readonly schema: z.ZodType;
  readonly description: string;
  /**
   * A fast path for a type consumers decode by the million: the data itself when `schema` would
   * pass it unchanged, undefined when `schema` must parse it (decodeEvent). `subject` is the
   * event's, already checked to be a valid EntityId.
   */
  readonly accept?: (json: unknown, subject: string) => unknown;
}

export const catalogue: { readonly [T in EventType]: CatalogueEntry } = {
  [EventType.readingReported]: {
    topic: 'readings',
    schema: ReadingReportedV1,
    description: 'A device measured power, energy counters or state of charge at the event time.',
    accept: plainReading,
  },
  [EventType.deviceRegistered]: {
    topic: 'devices',
    schema: DeviceRegisteredV2,
    description:
      'A device joined a site. v2: the rating and the counter register size are in nameplate (v1 had them at the top level).',
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
  [EventType.deviceMoved]: {
    topic: 'devices',
    schema: DeviceMovedV1,
    description:
      'A device moved to another site at effectiveAt: energy before it stays with the old site, after it goes to the new one.',
  },
  [EventType.siteRegistered]: {
    topic: 'devices',
    schema: SiteRegisteredV1,
    description: 'A site was registered: its name, IANA time zone and location. Keyed by site id.',
  },
  [EventType.siteUpdated]: {
    topic: 'devices',
    schema: SiteUpdatedV1,
    description: 'A site was renamed or its location changed.',
  },
  [EventType.siteClosed]: {
    topic: 'devices',
    schema: SiteClosedV1,
    description: 'A site was closed: it takes no new devices; its history stays.',
  },
  [EventType.siteReopened]: {
    topic: 'devices',
    schema: SiteReopenedV1,
    description: 'A closed site is open again.',
  },
  [EventType.siteTariffPublished]: {
    topic: 'devices',
    schema: SiteTariffPublishedV1,
    description:
      "A version of a site's tariff (import and feed-in prices, daily fee, currency, VAT), in force from its effectiveFrom until the next version's. Keyed by site id.",
  },
  [EventType.dayAheadPricesPublished]: {
    topic: 'market',
    schema: DayAheadPricesPublishedV1,
    description:
      'Day-ahead prices of a bidding zone per MWh, 15-minute or hourly, as the exchange published them; a later publication of the same interval corrects it. Keyed by zone; applies to every tenant.',
  },
  [EventType.carbonIntensityPublished]: {
    topic: 'market',
    schema: CarbonIntensityPublishedV1,
    description:
      'Grid carbon intensity of a zone in gCO2e/kWh, hourly or per quarter hour; a later publication of the same interval corrects it. Keyed by zone; applies to every tenant.',
  },
  [EventType.commandRequested]: {
    topic: 'commands',
    schema: CommandRequestedV1,
    description:
      'Someone asked a device to do something, and the API accepted it (the device exists, is in service and supports the action with these parameters).',
  },
  [EventType.commandCancellationRequested]: {
    topic: 'commands',
    schema: CommandCancellationRequestedV1,
    description:
      'Someone asked to cancel a command; the command processor cancels it unless the device has acknowledged it or it is over.',
  },
  [EventType.commandDispatched]: {
    topic: 'gateway',
    schema: CommandDispatchedV1,
    description:
      "The command processor sent an attempt of a command to the device's gateway; the event id is the same for every redelivery of one attempt.",
  },
  [EventType.commandReported]: {
    topic: 'gateway',
    schema: CommandReportedV1,
    description:
      'A device (or its gateway) acknowledged an attempt, or reports that it succeeded or failed. Input of the command processor, which decides what it means.',
  },
  [EventType.commandAcknowledged]: {
    topic: 'commands',
    schema: CommandAcknowledgedV1,
    description: 'The device acknowledged the current attempt in time.',
  },
  [EventType.commandSucceeded]: {
    topic: 'commands',
    schema: CommandSucceededV1,
    description: 'The device carried the command out. Final.',
  },
  [EventType.commandFailed]: {
    topic: 'commands',
    schema: CommandFailedV1,
    description: 'The device could not carry the command out, and said why. Final.',
  },
  [EventType.commandRetryScheduled]: {
    topic: 'commands',
    schema: CommandRetryScheduledV1,
    description: 'An attempt went unacknowledged; the next is dispatched at retryAt.',
  },
  [EventType.commandTimedOut]: {
    topic: 'commands',
    schema: CommandTimedOutV1,
    description:
      'The last allowed attempt went unacknowledged, or an acknowledged attempt never reported its result. Final.',
  },
  [EventType.commandExpired]: {
    topic: 'commands',
    schema: CommandExpiredV1,
    description:
      'The command was not acknowledged before its expiry, so it is never sent again. Final.',
  },
  [EventType.commandCancelled]: {
    topic: 'commands',
    schema: CommandCancelledV1,
    description: 'The command was cancelled before the device acknowledged it. Final.',
  },
  [EventType.commandRejected]: {
    topic: 'commands',
    schema: CommandRejectedV1,
    description:
      'The command processor refused an accepted request, never sending it: the device already had GS_COMMAND_MAX_PENDING_PER_DEVICE unfinished commands (queue-full). Final.',
  },
  [EventType.commandLateReported]: {
    topic: 'commands',
    schema: CommandLateReportedV1,
    description:
      'A device reported about a command that was already over (for example a success after its expiry, or an acknowledgement after its cancellation); the final status stands, the report is kept in its timeline.',
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

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(catalogue, type);
}

const SITE_EVENT_TYPES: ReadonlySet<string> = new Set([
  EventType.siteRegistered,
  EventType.siteUpdated,
  EventType.siteClosed,
  EventType.siteReopened,
  EventType.siteTariffPublished,
]);

/** Whether an event is about a site (its subject a site id) rather than a device. */
export function isSiteEvent(event: { readonly type: string }): boolean {
  return SITE_EVENT_TYPES.has(event.type);
}
