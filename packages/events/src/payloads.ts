import { z } from 'zod';
import { CommandAction } from './device-actions.ts';
import { DeviceKind, DeviceRole, EntityId, TimeZone, Timestamp } from './domain.ts';
import { PhysicalLimit } from './plausibility.ts';
import { Actor } from './registry-payloads.ts';

// zod 4's number refuses Infinity and NaN itself (payloads.unit.spec.ts); a refine checking it
// again was 2 % of a rebuild's CPU.
const finite = z.number();

/** Measured quantities, within what is physically possible (plausibility.ts). */
const powerW = finite.min(-PhysicalLimit.powerW).max(PhysicalLimit.powerW);
const counterWh = finite.min(0).max(PhysicalLimit.counterWh);
const voltageV = finite.min(0).max(PhysicalLimit.voltageV);
const currentA = finite.min(-PhysicalLimit.currentA).max(PhysicalLimit.currentA);
const temperatureC = finite.min(PhysicalLimit.temperatureMinC).max(PhysicalLimit.temperatureMaxC);

export const PhaseValues = z.strictObject({
  powerW: powerW.optional(),
  voltageV: voltageV.optional(),
  currentA: currentA.optional(),
});
export type PhaseValues = z.infer<typeof PhaseValues>;

export const ReadingQuality = z.enum(['good', 'estimated', 'bad']);
export type ReadingQuality = z.infer<typeof ReadingQuality>;

/**
 * One measurement of one device. The instant it was measured is the event's `time`.
 * Energy counters are cumulative (they only grow until the meter resets or rolls over).
 */
export const ReadingFields = z.strictObject({
  deviceId: EntityId,
  powerW: powerW.optional(),
  importWh: counterWh.optional(),
  exportWh: counterWh.optional(),
  voltageV: voltageV.optional(),
  currentA: currentA.optional(),
  phases: z
    .strictObject({
      l1: PhaseValues.optional(),
      l2: PhaseValues.optional(),
      l3: PhaseValues.optional(),
    })
    .optional(),
  socPct: finite.min(0).max(100).optional(),
  temperatureC: temperatureC.optional(),
  quality: ReadingQuality.default('good'),
});

/** A reading that measures nothing is a producer bug, not data. */
export const hasMeasurement = {
  check: (r: {
    powerW?: number;
    importWh?: number;
    exportWh?: number;
    socPct?: number;
    phases?: object;
  }) =>
    r.powerW !== undefined ||
    r.importWh !== undefined ||
    r.exportWh !== undefined ||
    r.socPct !== undefined ||
    r.phases !== undefined,
  message: 'a reading needs at least one of powerW, importWh, exportWh, socPct or phases',
} as const;

export const ReadingReportedV1 = ReadingFields.refine(hasMeasurement.check, {
  message: hasMeasurement.message,
});
export type ReadingReportedV1 = z.infer<typeof ReadingReportedV1>;

export const DeviceRegisteredV1 = z.strictObject({
  deviceId: EntityId,
  siteId: EntityId,
  kind: DeviceKind,
  role: DeviceRole,
  name: z.string().min(1).max(200),
  timeZone: TimeZone,
  ratedPowerW: finite.positive().max(PhysicalLimit.powerW).optional(),
  /**
   * The size of the device's energy counter registers in Wh: a counter that reaches it reads 0
   * again (a register showing 6 digits of kWh wraps at 1,000,000,000 Wh). Set at registration
   * only, so a device's energy never depends on when an update arrived. Without it, every
   * decrease of a counter is a reset (docs/energy.md).
   */
  counterWrapWh: finite
    .positive()
    .max(PhysicalLimit.counterWh)
    .describe(
      "The size of the energy counters' register in Wh: a counter that reaches it reads 0 again. Set at registration only.",
    )
    .optional(),
  actor: Actor.optional(),
});
export type DeviceRegisteredV1 = z.infer<typeof DeviceRegisteredV1>;

/**
 * What the device's rating plate says, as far as the registration knows it. v2 of a registration
 * groups these facts so that the next ones (a model, a serial number, the phases it is wired to)
 * join them as optional fields without crowding the registration itself (docs/events.md,
 * Versions). `{}` says as much as no nameplate.
 */
export const DeviceNameplate = z.strictObject({
  ratedPowerW: DeviceRegisteredV1.shape.ratedPowerW,
  counterWrapWh: DeviceRegisteredV1.shape.counterWrapWh,
});
export type DeviceNameplate = z.infer<typeof DeviceNameplate>;

/** v1's `ratedPowerW` and `counterWrapWh` moved into `nameplate`; nothing else changed. */
export const DeviceRegisteredV2 = z.strictObject({
  deviceId: EntityId,
  siteId: EntityId,
  kind: DeviceKind,
  role: DeviceRole,
  name: DeviceRegisteredV1.shape.name,
  timeZone: TimeZone,
  nameplate: DeviceNameplate.optional(),
  actor: Actor.optional(),
});
export type DeviceRegisteredV2 = z.infer<typeof DeviceRegisteredV2>;

export const DeviceUpdatedV1 = z.strictObject({
  deviceId: EntityId,
  name: z.string().min(1).max(200).optional(),
  role: DeviceRole.optional(),
  ratedPowerW: finite.positive().max(PhysicalLimit.powerW).optional(),
  actor: Actor.optional(),
});
export type DeviceUpdatedV1 = z.infer<typeof DeviceUpdatedV1>;

export const DeviceDecommissionedV1 = z.strictObject({
  deviceId: EntityId,
  reason: z.string().max(500).optional(),
  actor: Actor.optional(),
});
export type DeviceDecommissionedV1 = z.infer<typeof DeviceDecommissionedV1>;

export const DeviceRestoredV1 = z.strictObject({
  deviceId: EntityId,
  reason: z.string().max(500).optional(),
  actor: Actor.optional(),
});
export type DeviceRestoredV1 = z.infer<typeof DeviceRestoredV1>;

export const CommandPriority = z.enum(['low', 'normal', 'high']);
export type CommandPriority = z.infer<typeof CommandPriority>;

/** A command's parameters: flat scalars (the action's own schema says which: device-actions.ts). */
export const CommandParameters = z.record(
  z.string(),
  z.union([z.string(), finite, z.boolean(), z.null()]),
);
export type CommandParameters = z.infer<typeof CommandParameters>;

export const CommandRequestedV1 = z.strictObject({
  commandId: EntityId,
  deviceId: EntityId,
  action: CommandAction,
  parameters: CommandParameters.default({}),
  priority: CommandPriority.default('normal'),
  correlationId: z.string().min(1).max(128),
  requestedBy: z.string().min(1).max(200),
  expiresAt: Timestamp,
  /** The device's kind when the command was accepted, for statistics per kind. */
  deviceKind: DeviceKind.optional(),
  /** The client's Idempotency-Key; the command id is derived from it. */
  idempotencyKey: z.string().min(1).max(255).optional(),
});
export type CommandRequestedV1 = z.infer<typeof CommandRequestedV1>;

const commandRef = {
  commandId: EntityId,
  deviceId: EntityId,
  /** The request's correlationId, on every event of the command (absent on older events). */
  correlationId: z.string().min(1).max(128).optional(),
};
/** Dispatches of one command are numbered from 1; a retry is the next attempt. */
const attempt = z.number().int().min(1).max(1000);

export const CommandCancellationRequestedV1 = z.strictObject({
  ...commandRef,
  requestedBy: z.string().min(1).max(200),
  reason: z.string().max(500).optional(),
});
export type CommandCancellationRequestedV1 = z.infer<typeof CommandCancellationRequestedV1>;

/** The instruction on the gateway topic: what the device is to do, once per attempt. */
export const CommandDispatchedV1 = z.strictObject({
  ...commandRef,
  attempt,
  action: CommandAction,
  parameters: CommandParameters,
  priority: CommandPriority,
  /** Unacknowledged by then, the attempt counts as unanswered. */
  ackDeadline: Timestamp,
  expiresAt: Timestamp,
});
export type CommandDispatchedV1 = z.infer<typeof CommandDispatchedV1>;

/** What a device (or its gateway) says about an attempt. Raw input of the command processor. */
export const CommandOutcome = z.enum(['acknowledged', 'succeeded', 'failed']);
export type CommandOutcome = z.infer<typeof CommandOutcome>;
export const CommandReportedV1 = z.strictObject({
  ...commandRef,
  attempt,
  outcome: CommandOutcome,
  reason: z.string().min(1).max(500).optional(),
});
export type CommandReportedV1 = z.infer<typeof CommandReportedV1>;

/**
 * The time of the device's report (its clock). The event's own time is the command processor's
 * clock, so latencies are measured on one clock. Absent in events from before it was added.
 */
const reportedAt = Timestamp.optional();

export const CommandAcknowledgedV1 = z.strictObject({ ...commandRef, attempt, reportedAt });
export type CommandAcknowledgedV1 = z.infer<typeof CommandAcknowledgedV1>;

export const CommandSucceededV1 = z.strictObject({ ...commandRef, attempt, reportedAt });
export type CommandSucceededV1 = z.infer<typeof CommandSucceededV1>;

export const CommandFailedV1 = z.strictObject({
  ...commandRef,
  attempt,
  reason: z.string().min(1).max(500),
  reportedAt,
});
export type CommandFailedV1 = z.infer<typeof CommandFailedV1>;

export const CommandRetryScheduledV1 = z.strictObject({
  ...commandRef,
  /** The attempt that went unanswered. */
  attempt,
  retryAt: Timestamp,
});
export type CommandRetryScheduledV1 = z.infer<typeof CommandRetryScheduledV1>;

export const CommandTimedOutV1 = z.strictObject({
  ...commandRef,
  attempts: attempt,
  /** What the last attempt was still waiting for. */
  waitingFor: z.enum(['acknowledgement', 'result']),
});
export type CommandTimedOutV1 = z.infer<typeof CommandTimedOutV1>;

export const CommandExpiredV1 = z.strictObject({
  ...commandRef,
  expiresAt: Timestamp,
  /** Dispatches made before it expired (0: never dispatched). */
  attempts: z.number().int().min(0).max(1000),
});
export type CommandExpiredV1 = z.infer<typeof CommandExpiredV1>;

export const CommandCancelledV1 = z.strictObject({
  ...commandRef,
  attempts: z.number().int().min(0).max(1000),
  requestedBy: z.string().min(1).max(200),
});
export type CommandCancelledV1 = z.infer<typeof CommandCancelledV1>;

/** Why the command processor rejected a request it was given. */
export const CommandRejection = z.enum(['queue-full']);
export type CommandRejection = z.infer<typeof CommandRejection>;

export const CommandRejectedV1 = z.strictObject({
  ...commandRef,
  reason: CommandRejection,
  /** The device's unfinished commands when it was rejected. */
  pendingCommands: z.number().int().min(0),
});
export type CommandRejectedV1 = z.infer<typeof CommandRejectedV1>;

/**
 * A device reported about a command that was already over (expired, timed out, cancelled, or
 * ended by another report): the final status stands, and this records what the device said.
 */
export const CommandLateReportedV1 = z.strictObject({
  ...commandRef,
  attempt,
  outcome: CommandOutcome,
  reason: z.string().min(1).max(500).optional(),
  /** The time of the device's report (its clock); the event's time is the processor's. */
  reportedAt: Timestamp,
});
export type CommandLateReportedV1 = z.infer<typeof CommandLateReportedV1>;

export const EnergyFlag = z.enum([
  'gap',
  'no_data',
  'import_reset',
  'import_rollover',
  'export_reset',
  'export_rollover',
]);
export type EnergyFlag = z.infer<typeof EnergyFlag>;

/**
 * A device's energy in one 15-minute bucket, computed by the energy processor from its
 * readings. Published again, with the same key, whenever late data changes it: the newest
 * event of a (device, bucketStart) is the right one.
 */
const DirectedEnergyWh = z.strictObject({ importWh: finite.min(0), exportWh: finite.min(0) });

export const QuarterHourEnergyComputedV1 = z.strictObject({
  deviceId: EntityId,
  siteId: EntityId.optional(),
  role: DeviceRole.optional(),
  /** The site's time zone, for read models that total the site's local days. */
  timeZone: TimeZone.optional(),
  bucketStart: Timestamp,
  importWh: finite.min(0),
  exportWh: finite.min(0),
  /** Milliseconds of the bucket covered by intervals of known energy. */
  measuredMs: z.number().int().min(0).max(900_000),
  /** Milliseconds of the bucket in gaps: energy unknown, counted as 0. */
  unknownMs: z.number().int().min(0).max(900_000),
  quality: ReadingQuality,
  flags: z.array(EnergyFlag),
  /** Per phase, from the phase powers, for the phases the device reports. */
  phases: z
    .strictObject({
      l1: DirectedEnergyWh.optional(),
      l2: DirectedEnergyWh.optional(),
      l3: DirectedEnergyWh.optional(),
    })
    .optional(),
});
export type QuarterHourEnergyComputedV1 = z.infer<typeof QuarterHourEnergyComputedV1>;

/** What an alert is about. Each kind has a detail object of its own. */
export const AlertKind = z.enum(['device-offline', 'data-gap', 'meter-reset', 'power-threshold']);
export type AlertKind = z.infer<typeof AlertKind>;

/** Why an alert was cleared: the condition ended, or the device left service. */
export const AlertClearReason = z.enum(['recovered', 'decommissioned']);
export type AlertClearReason = z.infer<typeof AlertClearReason>;

const nonNegativeMs = z.number().int().min(0);

export const DeviceOfflineDetail = z.strictObject({
  /** Event time of the device's last reading before it went silent. */
  lastReadingAt: Timestamp,
  offlineAfterMs: nonNegativeMs,
});
export const DataGapDetail = z.strictObject({
  /** The readings on either side of the gap. */
  from: Timestamp,
  to: Timestamp,
  gapMs: nonNegativeMs,
  maxGapMs: nonNegativeMs,
});
export const MeterResetDetail = z.strictObject({
  /** Every cumulative counter of the reading that went down. */
  counters: z
    .array(
      z.strictObject({
        counter: z.enum(['importWh', 'exportWh']),
        previousWh: finite.min(0),
        newWh: finite.min(0),
      }),
    )
    .min(1),
});
export const PowerThresholdDetail = z.strictObject({
  /** The reading's power (its magnitude went above the rating). */
  powerW: finite,
  ratedPowerW: finite.positive(),
});

/**
 * Fields every alert event carries. `alertId` is derived from the device, the kind and the
 * event time that opened the alert, so the same readings always give the same alert.
 */
const alertFields = {
  alertId: z.string().min(1).max(300),
  deviceId: EntityId,
  /** Absent while the device has reported but not been registered. */
  siteId: EntityId.optional(),
  /** The event time of this transition. */
  at: Timestamp,
};

function alertPayload<Extra extends z.ZodRawShape>(extra: Extra) {
  return z.discriminatedUnion('kind', [
    z.strictObject({
      ...alertFields,
      ...extra,
      kind: z.literal('device-offline'),
      detail: DeviceOfflineDetail,
    }),
    z.strictObject({
      ...alertFields,
      ...extra,
      kind: z.literal('data-gap'),
      detail: DataGapDetail,
    }),
    z.strictObject({
      ...alertFields,
      ...extra,
      kind: z.literal('meter-reset'),
      detail: MeterResetDetail,
    }),
    z.strictObject({
      ...alertFields,
      ...extra,
      kind: z.literal('power-threshold'),
      detail: PowerThresholdDetail,
    }),
  ]);
}

/** An alert opened; `at` is when its condition began (event time). */
export const AlertRaisedV1 = alertPayload({});
export type AlertRaisedV1 = z.infer<typeof AlertRaisedV1>;

/** An alert closed; `at` is when its condition ended, `detail` is the one it was raised with. */
export const AlertClearedV1 = alertPayload({ raisedAt: Timestamp, reason: AlertClearReason });
export type AlertClearedV1 = z.infer<typeof AlertClearedV1>;
