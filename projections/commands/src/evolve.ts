import { EventType } from '@gridstream/events';
import type {
  CommandAction,
  CommandParameters,
  CommandPriority,
  DeviceKind,
  GridstreamEvent,
} from '@gridstream/events';

/** The statuses a command ends in. */
const FINAL = ['succeeded', 'failed', 'timed-out', 'expired', 'cancelled', 'rejected'] as const;

/** Every status a command can have, in lifecycle order (the API's `status` filter takes these). */
export const COMMAND_STATUSES = [
  'requested',
  'dispatched',
  'acknowledged',
  'retry-scheduled',
  ...FINAL,
] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export const FINAL_STATUSES: readonly CommandStatus[] = FINAL;

export interface TimelineEntry {
  readonly eventId: string;
  /**
   * The step: requested, dispatched, acknowledged, retry-scheduled, cancellation-requested, a
   * final status, or late-reported (a device's report about a command already over).
   */
  readonly step: string;
  readonly at: string;
  readonly attempt?: number;
  /** What the step says beyond its name (a failure's reason, a retry's time ...). */
  readonly detail?: Readonly<Record<string, string | number>>;
}

/** One command as people read it. Times are RFC 3339 strings in UTC. */
export interface CommandView {
  readonly tenant: string;
  readonly commandId: string;
  readonly deviceId: string;
  readonly status: CommandStatus;
  /** Dispatches made (the first and its retries). */
  readonly attempts: number;
  readonly action?: CommandAction;
  readonly parameters?: CommandParameters;
  readonly priority?: CommandPriority;
  readonly deviceKind?: DeviceKind;
  readonly correlationId?: string;
  readonly requestedBy?: string;
  readonly requestedAt?: string;
  readonly expiresAt?: string;
  readonly cancellationRequestedAt?: string;
  readonly finishedAt?: string;
  /** From request to the final status, for a finished command whose request the model has. */
  readonly latencyMs?: number;
  /** Why it failed, as the device said, or why the processor rejected it (`queue-full`). */
  readonly reason?: string;
  /** Every step, by time (ties in lifecycle order). */
  readonly timeline: readonly TimelineEntry[];
  /**
   * How far the lifecycle has come, so events folded out of order (the gateway and commands
   * topics are read side by side) never move the status back: attempt * 10 + step rank.
   */
  readonly progress: number;
}

type CommandEvent = Extract<GridstreamEvent, { type: `gridstream.command.${string}` }>;

/** Which command document an event changes; device reports are the processor's input only. */
export function commandDocumentId(event: GridstreamEvent): string | undefined {
  if (!event.type.startsWith('gridstream.command.') || event.type === EventType.commandReported)
    return undefined;
  return `${event.tenant}/${(event as CommandEvent).data.commandId}`;
}

const STEP_RANK = { requested: 0, dispatched: 1, acknowledged: 2, 'retry-scheduled': 3 } as const;
/**
 * No attempt is dispatched or retried after an acknowledgement, even a late one of an earlier
 * attempt, so it is past every dispatch and retry (attempts are at most 1000).
 */
const ACKNOWLEDGED_PROGRESS = 1001 * 10 + STEP_RANK.acknowledged;

const isoUtc = (time: string) => new Date(time).toISOString();

interface Step {
  readonly step: string;
  readonly status?: CommandStatus;
  readonly progress?: number;
  readonly attempt?: number;
  readonly detail?: Readonly<Record<string, string | number>>;
  readonly fields?: Partial<CommandView>;
}

/** The device's time of its report, beside the step's own time (the processor's clock). */
const reportedAtDetail = (reportedAt: string | undefined): { detail?: { reportedAt: string } } =>
  reportedAt === undefined ? {} : { detail: { reportedAt: isoUtc(reportedAt) } };

function stepOf(event: CommandEvent): Step | undefined {
  switch (event.type) {
    case EventType.commandRequested: {
      const { data } = event;
      return {
        step: 'requested',
        status: 'requested',
        progress: STEP_RANK.requested,
        fields: {
          action: data.action,
          parameters: data.parameters,
          priority: data.priority,
          correlationId: data.correlationId,
          requestedBy: data.requestedBy,
          requestedAt: isoUtc(event.time),
          expiresAt: isoUtc(data.expiresAt),
          ...(data.deviceKind === undefined ? {} : { deviceKind: data.deviceKind }),
        },
      };
    }
    case EventType.commandCancellationRequested:
      return {
        step: 'cancellation-requested',
        detail: {
          requestedBy: event.data.requestedBy,
          ...(event.data.reason === undefined ? {} : { reason: event.data.reason }),
        },
        fields: { cancellationRequestedAt: isoUtc(event.time) },
      };
    case EventType.commandDispatched:
      return {
        step: 'dispatched',
        status: 'dispatched',
        attempt: event.data.attempt,
        progress: event.data.attempt * 10 + STEP_RANK.dispatched,
        detail: { ackDeadline: isoUtc(event.data.ackDeadline) },
      };
    case EventType.commandAcknowledged:
      return {
        step: 'acknowledged',
        status: 'acknowledged',
        attempt: event.data.attempt,
        progress: ACKNOWLEDGED_PROGRESS,
        ...reportedAtDetail(event.data.reportedAt),
      };
    case EventType.commandRetryScheduled:
      return {
        step: 'retry-scheduled',
        status: 'retry-scheduled',
        attempt: event.data.attempt,
        progress: event.data.attempt * 10 + STEP_RANK['retry-scheduled'],
        detail: { retryAt: isoUtc(event.data.retryAt) },
      };
    case EventType.commandSucceeded:
      return {
        step: 'succeeded',
        status: 'succeeded',
        attempt: event.data.attempt,
        ...reportedAtDetail(event.data.reportedAt),
      };
    case EventType.commandFailed:
      return {
        step: 'failed',
        status: 'failed',
        attempt: event.data.attempt,
        detail: { reason: event.data.reason, ...reportedAtDetail(event.data.reportedAt).detail },
        fields: { reason: event.data.reason },
      };
    case EventType.commandTimedOut:
      return {
        step: 'timed-out',
        status: 'timed-out',
        detail: { waitingFor: event.data.waitingFor, attempts: event.data.attempts },
      };
    case EventType.commandExpired:
      return { step: 'expired', status: 'expired', detail: { attempts: event.data.attempts } };
    case EventType.commandCancelled:
      return {
        step: 'cancelled',
        status: 'cancelled',
        detail: { requestedBy: event.data.requestedBy },
      };
    case EventType.commandRejected:
      return {
        step: 'rejected',
        status: 'rejected',
        detail: { reason: event.data.reason, pendingCommands: event.data.pendingCommands },
        fields: { reason: event.data.reason },
      };
    case EventType.commandLateReported: {
      const { data } = event;
      // Not a step of the lifecycle: the status stays what it was.
      return {
        step: 'late-reported',
        attempt: data.attempt,
        detail: {
          outcome: data.outcome,
          ...(data.reason === undefined ? {} : { reason: data.reason }),
          reportedAt: isoUtc(data.reportedAt),
        },
      };
    }
    default:
      return undefined;
  }
}

/** Lifecycle order, for steps at the same instant (a cancellation and its request share one). */
const STEP_ORDER = [
  'requested',
  'cancellation-requested',
  'dispatched',
  'acknowledged',
  'retry-scheduled',
  ...FINAL_STATUSES,
  'late-reported',
];

/** By time, then attempt, then lifecycle order, then id: the same timeline in any delivery order. */
function byTime(a: TimelineEntry, b: TimelineEntry): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return (
    (a.attempt ?? 0) - (b.attempt ?? 0) ||
    STEP_ORDER.indexOf(a.step) - STEP_ORDER.indexOf(b.step) ||
    (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0)
  );
}

function withLatency(view: CommandView): CommandView {
  if (view.finishedAt === undefined || view.requestedAt === undefined) return view;
  return { ...view, latencyMs: Date.parse(view.finishedAt) - Date.parse(view.requestedAt) };
}

/**
 * Folds a command event into its document (pure). An event id already in the timeline changes
 * nothing (a redone step repeats its id). A final status is final; before it, the status is that
 * of the furthest step, whatever order the commands and gateway topics deliver in.
 */
export function evolveCommand(
  state: CommandView | null,
  event: GridstreamEvent,
): CommandView | null {
  if (commandDocumentId(event) === undefined) return state;
  const commandEvent = event as CommandEvent;
  const step = stepOf(commandEvent);
  if (step === undefined) return state;
  if (state?.timeline.some((entry) => entry.eventId === event.id)) return state;
  const current: CommandView = state ?? {
    tenant: event.tenant,
    commandId: commandEvent.data.commandId,
    deviceId: event.subject,
    status: 'requested',
    attempts: 0,
    timeline: [],
    progress: -1,
  };
  const at = isoUtc(event.time);
  const entry: TimelineEntry = {
    eventId: event.id,
    step: step.step,
    at,
    ...(step.attempt === undefined ? {} : { attempt: step.attempt }),
    ...(step.detail === undefined ? {} : { detail: step.detail }),
  };
  let next: CommandView = {
    ...current,
    ...step.fields,
    timeline: [...current.timeline, entry].sort(byTime),
    attempts: Math.max(current.attempts, step.attempt ?? 0),
    // Kept after the end too, so any delivery order ends in the same document.
    progress: Math.max(current.progress, step.progress ?? -1),
  };
  const final = FINAL_STATUSES.includes(current.status);
  if (step.status !== undefined && !final) {
    if (FINAL_STATUSES.includes(step.status))
      next = { ...next, status: step.status, finishedAt: at };
    else if ((step.progress ?? 0) > current.progress) next = { ...next, status: step.status };
  }
  return withLatency(next);
}
