import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import { applyCommand, planReplies } from './commands.ts';
import type { SimulatedDevice } from './fleet.ts';

export type DispatchedEvent = EventOf<typeof EventType.commandDispatched>;
export type ReportedEvent = EventOf<typeof EventType.commandReported>;

/** A device's report on a dispatched command: the event a gateway publishes for it. */
export function commandReport(
  event: DispatchedEvent,
  outcome: ReportedEvent['data']['outcome'],
  by: { readonly id: string; readonly source: string; readonly reason?: string | undefined },
): ReportedEvent {
  return {
    id: by.id,
    type: EventType.commandReported,
    source: by.source,
    subject: event.subject,
    time: new Date().toISOString(),
    tenant: event.tenant,
    data: {
      commandId: event.data.commandId,
      deviceId: event.data.deviceId,
      // a gateway echoes the instruction's correlationId, so every event of the command has it
      ...(event.data.correlationId === undefined
        ? {}
        : { correlationId: event.data.correlationId }),
      attempt: event.data.attempt,
      outcome,
      ...(by.reason === undefined ? {} : { reason: by.reason }),
    },
  };
}

export interface CommandResponder {
  /** Answers the fleet's dispatches (others are some other gateway's); each event id once. */
  receive(events: readonly DispatchedEvent[]): void;
  /** Waits for the replies already planned. */
  stop(): Promise<void>;
}

/**
 * The fleet's gateway: answers each dispatch after the delays planReplies chose, publishing the
 * device's reports, and applies a successful command to the device so its readings follow.
 */
export function createCommandResponder(options: {
  readonly tenant: string;
  readonly devices: readonly SimulatedDevice[];
  readonly random: () => number;
  readonly publish: (events: readonly ReportedEvent[]) => Promise<void>;
  readonly newEventId: () => string;
  readonly log: (line: string) => void;
}): CommandResponder {
  const byId = new Map(options.devices.map((d) => [d.registration.deviceId, d]));
  const seen = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  const report = (
    event: DispatchedEvent,
    outcome: ReportedEvent['data']['outcome'],
    reason?: string,
  ) => {
    const sent = options
      .publish([
        commandReport(event, outcome, { id: options.newEventId(), source: 'simulator', reason }),
      ])
      .catch((error: unknown) => {
        options.log(`simulator: could not report a command: ${(error as Error).message}`);
      })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  };
  return {
    receive(events) {
      for (const event of events) {
        const device = byId.get(event.subject);
        if (
          stopped ||
          event.tenant !== options.tenant ||
          device === undefined ||
          seen.has(event.id)
        )
          continue;
        if (seen.size >= 100_000) seen.clear(); // a redelivery is seconds late, not hours
        seen.add(event.id);
        for (const reply of planReplies(event.data, Date.now(), options.random)) {
          const timer = setTimeout(() => {
            timers.delete(timer);
            if (reply.outcome === 'succeeded') applyCommand(device, event.data);
            report(event, reply.outcome, reply.reason);
          }, reply.afterMs);
          timers.add(timer);
        }
      }
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.all([...inFlight]);
    },
  };
}
