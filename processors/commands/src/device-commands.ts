import type { CommandAction, CommandParameters, CommandPriority } from '@gridstream/events';

/**
 * Where a command the processor still drives stands:
 * - queued: accepted, waiting for the device to be free (one command in flight per device);
 * - dispatched: an attempt is on the gateway, waiting for the device's acknowledgement;
 * - acknowledged: the device took the attempt, waiting for its result;
 * - waiting-retry: an attempt went unanswered, the next goes out at `dueAtMs`;
 * - cancelling: cancelled while dispatched and unacknowledged; an acknowledgement before the ack
 *   deadline still wins (the device took it), else it is cancelled at the deadline, never retried.
 * A finished command leaves the state (it stays in `finished` until its expiry, so a repeat is
 * ignored).
 */
export type CommandPhase =
  'queued' | 'dispatched' | 'acknowledged' | 'waiting-retry' | 'cancelling';

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
   * The phase's timer: dispatched and cancelling -> ack deadline, acknowledged -> result deadline,
   * waiting-retry -> when the next attempt goes out; absent for queued (expiry applies).
   */
  readonly dueAtMs?: number;
  /** Who asked to cancel it, while cancelling. */
  readonly cancelRequestedBy?: string;
  /** The request's correlationId: every event of the command carries it. */
  readonly correlationId?: string;
}

/** A finished command, remembered until `forgetAtMs` (its expiry, or a result timeout after its end). */
export interface FinishedCommand {
  readonly commandId: string;
  readonly forgetAtMs: number;
  readonly correlationId?: string;
}

/** The processor's state of one device: its unfinished commands. Stored in MongoDB, one per device. */
export interface DeviceCommandsState {
  readonly tenant: string;
  readonly deviceId: string;
  readonly commands: readonly PendingCommand[];
  /**
   * Finished commands, each until its expiry has passed: a request for one of them published
   * again (the API replaying an Idempotency-Key) is ignored, and a device's late report is kept.
   * Documents written before this held bare ids (the newest 500): see finishedCommands.
   */
  readonly finished: readonly (FinishedCommand | string)[];
}

/**
 * A backstop against MongoDB's 16 MB document limit, far above what a device finishes within a
 * command's lifetime (at most GS_COMMAND_MAX_TTL_MS): beyond it, the soonest forgotten go first.
 */
export const FINISHED_REMEMBERED_MAX = 20_000;

/** The finished commands of a state; a bare id (an older document) is kept until it ages out by count. */
export function finishedCommands(state: DeviceCommandsState): readonly FinishedCommand[] {
  return state.finished.map((f) =>
    typeof f === 'string' ? { commandId: f, forgetAtMs: Number.MAX_SAFE_INTEGER } : f,
  );
}

export function isFinished(state: DeviceCommandsState, commandId: string): boolean {
  return state.finished.some((f) => (typeof f === 'string' ? f : f.commandId) === commandId);
}

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
