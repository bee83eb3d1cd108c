import { z } from 'zod';
import { ErrorBodySchema } from './errors.ts';

/**
 * What the routes answer, for the OpenAPI document and the contract tests. Views of the read
 * models are loose objects: the fields named are promised, and a read model may add more
 * without breaking a client (nor being stripped from the answer).
 */
const isoTime = z.string().describe('ISO 8601, UTC');

/**
 * A read model's view: the schema documents it and checks each answer at run time, while its
 * static type stays the read model's interface (interfaces have no index signature, which the
 * type of a loose object demands).
 */
const view = (schema: z.ZodType): z.ZodType<object> => schema as z.ZodType<object>;

export const DeviceResponse = view(
  z.looseObject({
    tenant: z.string(),
    deviceId: z.string(),
    status: z.string().describe('active or decommissioned'),
    siteId: z.string().optional(),
    kind: z.string().optional(),
    role: z.string().optional(),
    name: z.string().optional(),
    timeZone: z.string().optional(),
    lastSeenAt: isoTime.optional(),
    lastReading: z.looseObject({ time: isoTime }).optional(),
    connectivity: z
      .string()
      .describe('online or offline (no reading for GS_DEVICE_OFFLINE_AFTER_MS)'),
  }),
);

export const ReadingsResponse = z.object({
  deviceId: z.string(),
  from: isoTime,
  to: isoTime,
  readings: z.array(z.looseObject({ time: isoTime, quality: z.string() })),
});

export const DeviceHistoryResponse = view(
  z.object({
    deviceId: z.string(),
    events: z.array(z.looseObject({ id: z.string(), type: z.string(), time: isoTime })),
  }),
);

export const DeviceStateResponse = z.looseObject({
  at: isoTime,
  deviceId: z.string(),
  connectivity: z.string(),
});

export const SiteDayResponse = view(
  z.looseObject({
    tenant: z.string(),
    siteId: z.string(),
    date: z.string(),
    timeZone: z.string(),
    devices: z.array(z.looseObject({ deviceId: z.string() })),
    totals: z.looseObject({}),
  }),
);

export const AlertsResponse = view(
  z.object({
    alerts: z.array(
      z.looseObject({
        alertId: z.string(),
        kind: z.string(),
        deviceId: z.string(),
        status: z.string(),
        raisedAt: isoTime,
      }),
    ),
  }),
);

const Command = z.looseObject({
  tenant: z.string(),
  commandId: z.string(),
  deviceId: z.string(),
  status: z.string(),
  attempts: z.number(),
  timeline: z.array(z.looseObject({})),
});

export const CommandResponse = view(Command);

export const CommandsResponse = view(z.object({ commands: z.array(Command) }));

export const CommandAcceptedResponse = z.looseObject({
  commandId: z.string(),
  status: z
    .string()
    .describe("`requested` for a new command; a replayed request answers the command's status now"),
  replayed: z.boolean(),
});

export const CancellationAcceptedResponse = z.object({
  commandId: z.string(),
  status: z.literal('cancellation-requested'),
});

export const CommandStatsResponse = z.looseObject({ from: isoTime, to: isoTime });

/** How a command request can be refused besides an invalid field (decide-request's refusals). */
export const CommandRequestRefusals = {
  409: ErrorBodySchema.describe(
    'CONFLICT: the device is decommissioned or not registered, or the Idempotency-Key was used for another request; `reason` says which',
  ),
  422: ErrorBodySchema.describe(
    "REFUSED: the device's kind cannot do the action, or its parameters do not fit; `reason` says which",
  ),
};

/** How a cancellation can be refused (decide-cancel's refusals). */
export const CancellationRefusals = {
  409: ErrorBodySchema.describe(
    'CONFLICT: the command was acknowledged or has finished; `reason` says which',
  ),
};

const DeadLetterSummary = z.object({
  id: z.string().describe('partition-offset in the DLQ topic'),
  dlqTime: isoTime.describe('when the DLQ took it'),
  source: z.object({ topic: z.string(), partition: z.number().int(), offset: z.string() }),
  consumerGroup: z.string().nullable().describe('the consumer group that could not use it'),
  stage: z.string().nullable().describe('decode or process'),
  reason: z.string(),
  failedAt: isoTime.nullable(),
  tenant: z.string().nullable(),
  type: z.string().nullable().describe("the original's CloudEvents type"),
  truncated: z.array(z.string()).describe('what was cut to fit the DLQ: value, headers, key'),
  originalSize: z.number().int().nullable(),
  originalSha256: z.string().nullable(),
  redrive: z
    .object({
      letter: z.string(),
      at: isoTime,
      topic: z.string(),
      partition: z.number().int(),
      group: z.string().nullable().describe('the one group it went back for; null: every group'),
      upcast: z.boolean(),
      by: z.string(),
    })
    .nullable()
    .describe('set once gridstream dlq redrive put it back'),
  copies: z
    .array(z.string())
    .describe(
      'ids of other DLQ records that are this letter (the same message dead-lettered again by the same group after a Kafka node failed mid-commit); usually empty',
    ),
});

export const DeadLettersResponse = z.object({
  letters: z.array(DeadLetterSummary).describe('newest first'),
  matched: z.number().int().describe('letters that match, before the limit'),
});

const HumanBytes = z
  .union([z.object({ text: z.string() }), z.object({ base64: z.string() })])
  .nullable()
  .describe('as text when it is UTF-8, else base64');

export const DeadLetterResponse = DeadLetterSummary.extend({
  headers: z.record(z.string(), z.array(z.string())).describe("the original's headers"),
  key: HumanBytes,
  value: HumanBytes,
});
