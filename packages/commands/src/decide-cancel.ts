import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import { commandEventId } from './command-ids.ts';
import type { Refusal } from './refusal.ts';

export type CancellationRequestedEvent = EventOf<typeof EventType.commandCancellationRequested>;

/** Where a command stands, as the write side can see it (read model, or the request just made). */
export type CommandStage = 'pending' | 'acknowledged' | 'finished';

export interface CommandFacts {
  readonly commandId: string;
  readonly deviceId: string;
  readonly stage: CommandStage;
  /** The request's correlationId, carried by every event of the command. */
  readonly correlationId?: string | undefined;
}

export interface CancelRequest {
  readonly tenant: string;
  readonly commandId: string;
  readonly requestedBy: string;
  readonly reason?: string | undefined;
}

export type CancelDecision =
  | { readonly accepted: true; readonly event: CancellationRequestedEvent }
  | { readonly accepted: false; readonly refusal: Refusal };

/**
 * Whether a command may still be cancelled (pure): it exists, the device has not acknowledged it
 * and it is not over. The command processor has the last word (the device may acknowledge
 * meanwhile); asking twice gives the same event id.
 */
export function decideCancel(
  command: CommandFacts | undefined,
  request: CancelRequest,
  nowMs: number,
): CancelDecision {
  if (command === undefined)
    return {
      accepted: false,
      refusal: {
        code: 'NOT_FOUND',
        reason: 'command-not-found',
        message: `no command ${request.commandId}`,
      },
    };
  if (command.stage !== 'pending')
    return {
      accepted: false,
      refusal: {
        code: 'CONFLICT',
        reason: command.stage === 'finished' ? 'command-finished' : 'command-acknowledged',
        message:
          command.stage === 'finished'
            ? `command ${request.commandId} is over; there is nothing to cancel`
            : `the device has acknowledged command ${request.commandId}; it can no longer be cancelled`,
      },
    };
  return {
    accepted: true,
    event: {
      id: commandEventId(request.tenant, command.commandId, 'cancellation-requested'),
      type: EventType.commandCancellationRequested,
      source: '/v1/commands/cancel',
      subject: command.deviceId,
      time: new Date(nowMs).toISOString(),
      tenant: request.tenant,
      data: {
        commandId: command.commandId,
        deviceId: command.deviceId,
        ...(command.correlationId === undefined ? {} : { correlationId: command.correlationId }),
        requestedBy: request.requestedBy,
        ...(request.reason === undefined ? {} : { reason: request.reason }),
      },
    },
  };
}
