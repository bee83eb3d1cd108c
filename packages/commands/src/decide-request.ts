import {
  ActionParameters,
  CommandAction,
  EventType,
  supportsAction,
  toFieldIssues,
} from '@gridstream/events';
import type { CommandParameters, CommandPriority, DeviceKind, EventOf } from '@gridstream/events';
import { commandEventId, commandIdFor } from './command-ids.ts';
import { requestFingerprint } from './idempotency.ts';
import type { Refusal } from './refusal.ts';

export type CommandRequestedEvent = EventOf<typeof EventType.commandRequested>;

/** What the write side knows of a device: from the devices read model. */
export interface DeviceFacts {
  readonly status: 'active' | 'decommissioned' | 'unregistered';
  readonly kind?: DeviceKind | undefined;
  readonly ratedPowerW?: number | undefined;
}

/** A request to command a device, as the API received it (shape-checked, not yet judged). */
export interface CommandRequest {
  readonly tenant: string;
  readonly deviceId: string;
  readonly idempotencyKey: string;
  readonly action: string;
  readonly parameters: CommandParameters;
  readonly priority: CommandPriority;
  readonly correlationId?: string | undefined;
  /** Absent: now + the default time to live. */
  readonly expiresAt?: string | undefined;
  readonly requestedBy: string;
}

export interface RequestRules {
  readonly defaultTtlMs: number;
  readonly maxTtlMs: number;
}

export type RequestDecision =
  | { readonly accepted: true; readonly event: CommandRequestedEvent }
  | { readonly accepted: false; readonly refusal: Refusal };

/**
 * The request's content that the Idempotency-Key stands for (not who sent it or when), by value:
 * an expiry is its instant (`…T12:05:00Z`, `…T12:05:00.000Z`, the form the API echoes, and
 * `…T13:05:00+01:00` are one), and a correlationId equal to the command id is the one the API
 * gives a request without one. Each value is put in the form the API echoes, so a request sent
 * in that form has the fingerprint it had when fingerprints were taken of the text as sent.
 */
export function fingerprintOf(request: CommandRequest): string {
  const { tenant, idempotencyKey, correlationId, expiresAt } = request;
  const expiresAtMs = expiresAt === undefined ? NaN : Date.parse(expiresAt);
  return fingerprintOfContent({
    ...request,
    correlationId:
      correlationId === commandIdFor(tenant, idempotencyKey) ? undefined : correlationId,
    expiresAt: Number.isFinite(expiresAtMs) ? new Date(expiresAtMs).toISOString() : expiresAt,
  });
}

const fingerprintOfContent = (request: CommandRequest): string => {
  const { tenant, deviceId, action, parameters, priority, correlationId, expiresAt } = request;
  return requestFingerprint({
    tenant,
    deviceId,
    action,
    parameters,
    priority,
    correlationId,
    expiresAt,
  });
};

/**
 * The fingerprints a request's record may hold: `value` (fingerprintOf), which new records get,
 * and `asSent`, of the text as sent, which records made before values were compared hold: such a
 * record still answers its request sent again as it was (`…:00Z` then), and never another one.
 */
export interface RequestFingerprints {
  readonly value: string;
  readonly asSent: string;
}

export function fingerprintsOf(request: CommandRequest): RequestFingerprints {
  return { value: fingerprintOf(request), asSent: fingerprintOfContent(request) };
}

const refuse = (refusal: Refusal): RequestDecision => ({ accepted: false, refusal });

/**
 * Whether a device may be given a command (pure; time comes in as `nowMs`): it exists, it is in
 * service and registered, its kind supports the action, the parameters are the action's and fit
 * the device, and the expiry lies ahead, within the allowed time to live. Accepted, it is the
 * command.requested event, whose command id and event id derive from tenant and Idempotency-Key.
 */
export function decideRequest(
  device: DeviceFacts | undefined,
  request: CommandRequest,
  nowMs: number,
  rules: RequestRules,
): RequestDecision {
  const { deviceId } = request;
  if (device === undefined)
    return refuse({
      code: 'NOT_FOUND',
      reason: 'device-not-found',
      message: `no device ${deviceId}`,
    });
  if (device.status === 'decommissioned')
    return refuse({
      code: 'CONFLICT',
      reason: 'device-decommissioned',
      message: `device ${deviceId} is decommissioned; it takes no commands`,
    });
  if (device.status === 'unregistered' || device.kind === undefined)
    return refuse({
      code: 'CONFLICT',
      reason: 'device-not-registered',
      message: `device ${deviceId} has reported but is not registered; its kind is unknown`,
    });
  const action = CommandAction.safeParse(request.action);
  if (!action.success)
    return refuse({
      code: 'VALIDATION',
      reason: 'unknown-action',
      message: `unknown action ${JSON.stringify(request.action)}`,
      issues: [{ path: 'action', message: `one of ${CommandAction.options.join(', ')}` }],
    });
  if (!supportsAction(device.kind, action.data))
    return refuse({
      code: 'REFUSED',
      reason: 'action-not-supported',
      message: `a ${device.kind} cannot ${action.data}`,
      issues: [{ path: 'action', message: `not supported by a ${device.kind}` }],
    });
  const parameters = ActionParameters[action.data].safeParse(request.parameters);
  if (!parameters.success)
    return refuse({
      code: 'VALIDATION',
      reason: 'invalid-parameters',
      message: `invalid parameters for ${action.data}`,
      issues: toFieldIssues(parameters.error.issues, ['parameters']),
    });
  const limitW = (parameters.data as { limitW?: number }).limitW;
  if (limitW !== undefined && device.ratedPowerW !== undefined && limitW > device.ratedPowerW)
    return refuse({
      code: 'VALIDATION',
      reason: 'invalid-parameters',
      message: `limitW ${limitW} is above the device's rating of ${device.ratedPowerW} W`,
      issues: [
        {
          path: 'parameters.limitW',
          message: `at most ${device.ratedPowerW} (the device's rating)`,
        },
      ],
    });
  const expiresAtMs =
    request.expiresAt === undefined ? nowMs + rules.defaultTtlMs : Date.parse(request.expiresAt);
  if (expiresAtMs <= nowMs || expiresAtMs > nowMs + rules.maxTtlMs)
    return refuse({
      code: 'VALIDATION',
      reason: 'invalid-expiry',
      message: 'the expiry must lie in the future, within the allowed time to live',
      issues: [
        {
          path: 'expiresAt',
          message: `after now and at most ${rules.maxTtlMs} ms ahead`,
        },
      ],
    });
  const commandId = commandIdFor(request.tenant, request.idempotencyKey);
  return {
    accepted: true,
    event: {
      id: commandEventId(request.tenant, commandId, 'requested'),
      type: EventType.commandRequested,
      source: '/v1/devices/commands',
      subject: deviceId,
      time: new Date(nowMs).toISOString(),
      tenant: request.tenant,
      data: {
        commandId,
        deviceId,
        action: action.data,
        parameters: request.parameters,
        priority: request.priority,
        correlationId: request.correlationId ?? commandId,
        requestedBy: request.requestedBy,
        expiresAt: new Date(expiresAtMs).toISOString(),
        deviceKind: device.kind,
        idempotencyKey: request.idempotencyKey,
      },
    },
  };
}

/** What the write side remembers of a request per Idempotency-Key. */
export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly event: CommandRequestedEvent;
}

export type KeyDecision =
  | { readonly kind: 'new' }
  | { readonly kind: 'replay'; readonly event: CommandRequestedEvent }
  | { readonly kind: 'refused'; readonly refusal: Refusal };

/**
 * The Idempotency-Key rule (pure): a key seen before with the same request is answered with the
 * command it made; with a different request it is refused; a new key goes on to decideRequest.
 */
export function decideKey(
  record: IdempotencyRecord | undefined,
  fingerprints: RequestFingerprints,
  idempotencyKey: string,
): KeyDecision {
  if (record === undefined) return { kind: 'new' };
  if (record.fingerprint === fingerprints.value || record.fingerprint === fingerprints.asSent)
    return { kind: 'replay', event: record.event };
  return {
    kind: 'refused',
    refusal: {
      code: 'CONFLICT',
      reason: 'idempotency-key-reused',
      message: `Idempotency-Key ${JSON.stringify(idempotencyKey)} was used for another request`,
      issues: [
        { in: 'headers', path: 'idempotency-key', message: 'already used for a different request' },
      ],
    },
  };
}
