import { catalogue } from '@gridstream/events';
import type { PositionedEvent, TopicNames } from '@gridstream/kafka';
import { isSagaInput } from './command-saga.ts';

/**
 * The events of a batch that drive the command saga: requests and cancellations read from the
 * commands topic, device reports from the gateway topic (the catalogue's topic of each type). An
 * input read from another topic was not written by whoever may write it (a report forged where
 * the API writes, a request where gateways write): it is ignored with a log line, not
 * dead-lettered, because the consumer dead-letters only events that fail on their own and would
 * retry a batch made of nothing else forever. Events that are no input are skipped silently
 * (the dispatches and the processor's own events share these topics).
 */
export function sagaInputsOf(
  events: readonly PositionedEvent[],
  topics: TopicNames,
  log: (line: string) => void,
): PositionedEvent[] {
  return events.filter(({ event, topic }) => {
    if (!isSagaInput(event)) return false;
    const expected = topics[catalogue[event.type].topic];
    if (topic === expected) return true;
    log(
      `commands processor: ignored ${event.type} (${event.id}) read from ${topic}; it is only taken from ${expected}`,
    );
    return false;
  });
}
