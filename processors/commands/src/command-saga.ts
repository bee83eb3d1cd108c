import { EventType } from '@gridstream/events';
import type { EventOf, GridstreamEvent } from '@gridstream/events';
import { commandEventId } from './event-ids.ts';
import {
  dispatchOrder,
  finishedCommands,
  FINISHED_REMEMBERED_MAX,
  isFinished,
  retryDelayMs,
} from './device-commands.ts';
import type { CommandTimings, DeviceCommandsState, PendingCommand } from './device-commands.ts';

/** The events the processor publishes. */
export type ProcessorEvent = EventOf<
  | typeof EventType.commandDispatched
  | typeof EventType.commandAcknowledged
  | typeof EventType.commandSucceeded
  | typeof EventType.commandFailed
  | typeof EventType.commandRetryScheduled
  | typeof EventType.commandTimedOut
  | typeof EventType.commandExpired
  | typeof EventType.commandCancelled
  | typeof EventType.commandLateReported
  | typeof EventType.commandRejected
>;

/** What the processor reacts to: the events of its topics, and the clock. */
export type SagaInput =
  | EventOf<
      | typeof EventType.commandRequested
      | typeof EventType.commandCancellationRequested
      | typeof EventType.commandReported
    >
  | { readonly type: 'tick' };

export interface SagaStep {
  readonly state: DeviceCommandsState;
  readonly events: readonly ProcessorEvent[];
}

export const COMMANDS_SOURCE = 'processor/commands';

/** Whether an event is an input of the processor (the rest of its topics it ignores). */
export function isSagaInput(event: GridstreamEvent): event is Exclude<SagaInput, { type: 'tick' }> {
  return (
    event.type === EventType.commandRequested ||
    event.type === EventType.commandCancellationRequested ||
    event.type === EventType.commandReported
  );
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Builds one device's events in order, with ids from the command and step. */
class Outcome {
  readonly events: ProcessorEvent[] = [];
  #state: DeviceCommandsState;
  readonly #nowMs: number;
  readonly #resultTimeoutMs: number;
  constructor(state: DeviceCommandsState, nowMs: number, timings: CommandTimings) {
    this.#state = state;
    this.#nowMs = nowMs;
    this.#resultTimeoutMs = timings.resultTimeoutMs;
  }
  get state(): DeviceCommandsState {
    return this.#state;
  }

  emit<T extends ProcessorEvent['type']>(
    type: T,
    step: string,
    atMs: number,
    data: Extract<ProcessorEvent, { type: T }>['data'],
  ): void {
    const { tenant, deviceId } = this.#state;
    // every event of a command carries its request's correlationId
    const correlationId = data.correlationId ?? this.correlationOf(data.commandId);
    this.events.push({
      id: commandEventId(tenant, data.commandId, step),
      type,
      source: COMMANDS_SOURCE,
      subject: deviceId,
      time: iso(atMs),
      tenant,
      data: correlationId === undefined ? data : { ...data, correlationId },
    } as ProcessorEvent);
  }

  /** A command's correlationId, while it is pending or remembered as finished. */
  correlationOf(commandId: string): string | undefined {
    const pending = this.#state.commands.find((c) => c.commandId === commandId);
    if (pending !== undefined) return pending.correlationId;
    for (const finished of this.#state.finished)
      if (typeof finished !== 'string' && finished.commandId === commandId)
        return finished.correlationId;
    return undefined;
  }

  replace(command: PendingCommand): void {
    this.#state = {
      ...this.#state,
      commands: this.#state.commands.map((c) => (c.commandId === command.commandId ? command : c)),
    };
  }

  /**
   * Remembered until its expiry has passed, so a request published again is ignored, and at
   * least a result timeout after its end, so a device's late report is still recognised.
   */
  finish(commandId: string, expiresAtMs: number, correlationId?: string): void {
    const forgetAtMs = Math.max(expiresAtMs, this.#nowMs + this.#resultTimeoutMs);
    const correlation = correlationId ?? this.correlationOf(commandId);
    let finished = [
      ...finishedCommands(this.#state),
      {
        commandId,
        forgetAtMs,
        ...(correlation === undefined ? {} : { correlationId: correlation }),
      },
    ];
    if (finished.length > FINISHED_REMEMBERED_MAX)
      finished = finished
        .sort((a, b) => b.forgetAtMs - a.forgetAtMs)
        .slice(0, FINISHED_REMEMBERED_MAX)
        .reverse();
    this.#state = {
      ...this.#state,
      commands: this.#state.commands.filter((c) => c.commandId !== commandId),
      finished,
    };
  }

  /** Forgets the finished commands whose time has passed (the state is unchanged when none has). */
  forgetFinished(): void {
    const kept = this.#state.finished.filter(
      (f) => typeof f === 'string' || f.forgetAtMs > this.#nowMs,
    );
    if (kept.length < this.#state.finished.length) this.#state = { ...this.#state, finished: kept };
  }

  add(command: PendingCommand): void {
    this.#state = { ...this.#state, commands: [...this.#state.commands, command] };
  }
}

const ref = (state: DeviceCommandsState, command: PendingCommand) => ({
  commandId: command.commandId,
  deviceId: state.deviceId,
});

function applyInput(out: Outcome, input: SagaInput, nowMs: number, timings: CommandTimings): void {
  if (input.type === 'tick') return;
  const state = out.state;
  // The input's own time (the API's or the device's clock): kept as data (request order,
  // `reportedAt`), never the time of the processor's events, which is `nowMs`.
  const atMs = Date.parse(input.time);
  switch (input.type) {
    case EventType.commandRequested: {
      const { data } = input;
      const known =
        isFinished(state, data.commandId) ||
        state.commands.some((c) => c.commandId === data.commandId);
      if (known) return; // the same Idempotency-Key, requested again: one command
      if (state.commands.length >= timings.maxPendingPerDevice) {
        // Bounded, so a flood of commands to an offline device cannot grow the device's
        // document past MongoDB's limit and stall every timer; remembered, so a repeat stays out.
        out.emit(EventType.commandRejected, 'rejected', nowMs, {
          commandId: data.commandId,
          deviceId: state.deviceId,
          correlationId: data.correlationId,
          reason: 'queue-full',
          pendingCommands: state.commands.length,
        });
        out.finish(data.commandId, Date.parse(data.expiresAt), data.correlationId);
        return;
      }
      out.add({
        commandId: data.commandId,
        action: data.action,
        parameters: data.parameters,
        priority: data.priority,
        requestedAtMs: atMs,
        expiresAtMs: Date.parse(data.expiresAt),
        phase: 'queued',
        attempts: 0,
        correlationId: data.correlationId,
      });
      return;
    }
    case EventType.commandCancellationRequested: {
      const command = state.commands.find((c) => c.commandId === input.data.commandId);
      // Acknowledged: the device is carrying it out, too late to cancel.
      if (command === undefined || command.phase === 'acknowledged') return;
      if (command.phase === 'cancelling') return;
      if (command.phase === 'dispatched') {
        // The device may have taken the attempt, its acknowledgement on the way: that wins if
        // it comes by the ack deadline; else the command is cancelled then, and not retried.
        out.replace({ ...command, phase: 'cancelling', cancelRequestedBy: input.data.requestedBy });
        return;
      }
      out.emit(EventType.commandCancelled, 'cancelled', nowMs, {
        ...ref(state, command),
        attempts: command.attempts,
        requestedBy: input.data.requestedBy,
      });
      out.finish(command.commandId, command.expiresAtMs);
      return;
    }
    case EventType.commandReported: {
      const { data } = input;
      const command = state.commands.find((c) => c.commandId === data.commandId);
      if (command === undefined) {
        // Over already (expired, timed out, cancelled while the report was on its way): the
        // final status stands, but what the device says is kept, not dropped.
        if (isFinished(state, data.commandId))
          out.emit(
            EventType.commandLateReported,
            `late-reported-${data.attempt}-${data.outcome}`,
            nowMs,
            {
              commandId: data.commandId,
              deviceId: state.deviceId,
              attempt: data.attempt,
              outcome: data.outcome,
              ...(data.reason === undefined ? {} : { reason: data.reason }),
              reportedAt: iso(atMs),
            },
          );
        return;
      }
      if (data.attempt > command.attempts) return;
      if (data.outcome === 'acknowledged') {
        // An acknowledgement of any attempt made means the device took the command: a retry
        // decided meanwhile (waiting for its time, or queued again) is dropped, since doing it
        // twice may be worse than not knowing. A second acknowledgement changes nothing.
        if (command.phase === 'acknowledged') return;
        out.emit(EventType.commandAcknowledged, `acknowledged-${data.attempt}`, nowMs, {
          ...ref(state, command),
          attempt: data.attempt,
          reportedAt: iso(atMs),
        });
        const { cancelRequestedBy: _cancelRequestedBy, ...acknowledged } = command;
        out.replace({
          ...acknowledged,
          phase: 'acknowledged',
          dueAtMs: nowMs + timings.resultTimeoutMs,
        });
        return;
      }
      // A result from any attempt made is the device's truth: an unanswered attempt may have
      // been carried out after all, and then no further attempt goes out.
      if (data.outcome === 'succeeded')
        out.emit(EventType.commandSucceeded, 'succeeded', nowMs, {
          ...ref(state, command),
          attempt: data.attempt,
          reportedAt: iso(atMs),
        });
      else
        out.emit(EventType.commandFailed, 'failed', nowMs, {
          ...ref(state, command),
          attempt: data.attempt,
          reason: data.reason ?? 'the device gave no reason',
          reportedAt: iso(atMs),
        });
      out.finish(command.commandId, command.expiresAtMs);
      return;
    }
  }
}

/** Timers and expiry at `nowMs`, for every command (in dispatch order, for a stable event order). */
function fireTimers(out: Outcome, nowMs: number, timings: CommandTimings): void {
  for (const command of [...out.state.commands].sort(dispatchOrder)) {
    const state = out.state;
    const due = command.dueAtMs !== undefined && command.dueAtMs <= nowMs;
    const expire = () => {
      out.emit(EventType.commandExpired, 'expired', nowMs, {
        ...ref(state, command),
        expiresAt: iso(command.expiresAtMs),
        attempts: command.attempts,
      });
      out.finish(command.commandId, command.expiresAtMs);
    };
    const timeOut = (waitingFor: 'acknowledgement' | 'result') => {
      out.emit(EventType.commandTimedOut, 'timed-out', nowMs, {
        ...ref(state, command),
        attempts: command.attempts,
        waitingFor,
      });
      out.finish(command.commandId, command.expiresAtMs);
    };
    switch (command.phase) {
      case 'queued':
      case 'waiting-retry':
        if (command.expiresAtMs <= nowMs) {
          expire();
        } else if (command.phase === 'waiting-retry' && due) {
          const { dueAtMs: _dueAtMs, ...rest } = command;
          out.replace({ ...rest, phase: 'queued' });
        }
        break;
      case 'dispatched':
        if (!due) break;
        if (command.expiresAtMs <= nowMs) {
          expire();
        } else if (command.attempts < timings.maxAttempts) {
          const retryAtMs = nowMs + retryDelayMs(command.attempts + 1, timings);
          out.emit(EventType.commandRetryScheduled, `retry-scheduled-${command.attempts}`, nowMs, {
            ...ref(state, command),
            attempt: command.attempts,
            retryAt: iso(retryAtMs),
          });
          out.replace({ ...command, phase: 'waiting-retry', dueAtMs: retryAtMs });
        } else {
          timeOut('acknowledgement');
        }
        break;
      case 'cancelling':
        if (!due) break;
        out.emit(EventType.commandCancelled, 'cancelled', nowMs, {
          ...ref(state, command),
          attempts: command.attempts,
          requestedBy: command.cancelRequestedBy ?? 'unknown',
        });
        out.finish(command.commandId, command.expiresAtMs);
        break;
      case 'acknowledged':
        if (!due) break;
        // Not retried: the device took it, and doing it twice may be worse than not knowing.
        timeOut('result');
        break;
    }
  }
}

/** One command in flight per device: when none is, the first queued in dispatch order goes out. */
function dispatchNext(out: Outcome, nowMs: number, timings: CommandTimings): void {
  const { commands } = out.state;
  const inFlight = (c: PendingCommand) =>
    c.phase === 'dispatched' || c.phase === 'acknowledged' || c.phase === 'cancelling';
  if (commands.some(inFlight)) return;
  const next = commands.filter((c) => c.phase === 'queued').sort(dispatchOrder)[0];
  if (next === undefined) return;
  const attempt = next.attempts + 1;
  const ackDeadlineMs = Math.min(nowMs + timings.ackTimeoutMs, next.expiresAtMs);
  out.emit(EventType.commandDispatched, `dispatched-${attempt}`, nowMs, {
    ...ref(out.state, next),
    attempt,
    action: next.action,
    parameters: next.parameters,
    priority: next.priority,
    ackDeadline: iso(ackDeadlineMs),
    expiresAt: iso(next.expiresAtMs),
  });
  out.replace({ ...next, phase: 'dispatched', attempts: attempt, dueAtMs: ackDeadlineMs });
}

/**
 * The command saga of one device (pure; the clock comes in as `nowMs`): apply an input, fire the
 * timers that are due, then dispatch the next command if the device is free. Every event id is
 * derived from the command and the step (`dispatched-2`, `retry-scheduled-1`, ...), so a step
 * redone after a crash repeats the same ids, and a dispatch never repeats under a new id without
 * the retry that allows it.
 */
export function stepDevice(
  state: DeviceCommandsState,
  input: SagaInput,
  nowMs: number,
  timings: CommandTimings,
): SagaStep {
  const out = new Outcome(state, nowMs, timings);
  out.forgetFinished();
  applyInput(out, input, nowMs, timings);
  fireTimers(out, nowMs, timings);
  dispatchNext(out, nowMs, timings);
  return { state: out.state, events: out.events };
}
