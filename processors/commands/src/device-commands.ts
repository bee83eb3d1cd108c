import type { CommandAction, CommandParameters, CommandPriority } from '@gridstream/events';

/**
 * Where a command the processor still drives stands:
 * - queued: accepted, waiting for the device to be free (one command in flight per device);
 * - dispatched: an attempt is on the gateway, waiting for the device's acknowledgement;
 * - acknowledged: the device took the attempt, waiting for its result;
 * - waiting-retry: an attempt went unanswered, the next goes out at `dueAtMs`.
 * A finished command leaves the state (its id stays in `finished`, so a repeat is ignored).
 */
export type CommandPhase = 'queued' | 'dispatched' | 'acknowledged' | 'waiting-retry';

export interface PendingCommand {
  readonly commandId: string;
  readonly action: CommandAction;
  readonly parameters: CommandParameters;
  readonly priority: CommandPriority;
  readonly requestedAtMs: number;
  readonly expiresAtMs: number;
  readonly phase: CommandPhase;
  /** Dispatches made so far; the current attempt's number once dispatched. */
  readonly attempts: number;
  /**
   * The phase's timer: dispatched -> ack deadline, acknowledged -> result deadline,
   * waiting-retry -> when the next attempt goes out; absent for queued (expiry applies).
   */
  readonly dueAtMs?: number;
}

/** The processor's state of one device: its unfinished commands. Stored in MongoDB, one per device. */
export interface DeviceCommandsState {
  readonly tenant: string;
  readonly deviceId: string;
  readonly commands: readonly PendingCommand[];
  /** The newest finished command ids (bounded): a repeated request for one of them is ignored. */
  readonly finished: readonly string[];
}

/** How many finished command ids a device's state remembers. */
export const FINISHED_REMEMBERED = 500;

export interface CommandTimings {
  readonly ackTimeoutMs: number;
  readonly resultTimeoutMs: number;
  readonly maxAttempts: number;
  readonly retryBackoffMs: number;
  readonly retryMaxBackoffMs: number;
  /** Unfinished commands a device may have; a request beyond is rejected (queue-full). */
  readonly maxPendingPerDevice: number;
}

export function initialDeviceCommands(tenant: string, deviceId: string): DeviceCommandsState {
  return { tenant, deviceId, commands: [], finished: [] };
}

const PRIORITY_RANK: Readonly<Record<CommandPriority, number>> = { high: 0, normal: 1, low: 2 };

/** Dispatch order: higher priority first, then the older request, then the command id. */
export function dispatchOrder(a: PendingCommand, b: PendingCommand): number {
  return (
    PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] ||
    a.requestedAtMs - b.requestedAtMs ||
    (a.commandId < b.commandId ? -1 : a.commandId > b.commandId ? 1 : 0)
  );
}

/** Wait before attempt `nextAttempt` (2, 3, ...): the backoff doubling from the first retry. */
export function retryDelayMs(nextAttempt: number, timings: CommandTimings): number {
  return Math.min(timings.retryMaxBackoffMs, timings.retryBackoffMs * 2 ** (nextAttempt - 2));
}

/** When the state next needs the clock: the earliest timer or expiry; undefined when idle. */
export function nextDueMs(state: DeviceCommandsState): number | undefined {
  let due: number | undefined;
  const consider = (ms: number) => {
    if (due === undefined || ms < due) due = ms;
  };
  for (const command of state.commands) {
    if (command.dueAtMs !== undefined) consider(command.dueAtMs);
    if (command.phase === 'queued' || command.phase === 'waiting-retry')
      consider(command.expiresAtMs);
  }
  return due;
}
