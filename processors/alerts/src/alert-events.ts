import { v5 as uuidv5 } from 'uuid';
import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import type { AlertTransition } from './alert-state.ts';

/** The CloudEvents `source` of every alert event. */
export const ALERTS_SOURCE = 'processor/alerts';

/** Namespace of the alert events' name-based ids (a fixed random UUID; never change it). */
const ALERT_EVENT_NAMESPACE = 'dd317497-6038-49d5-b6a9-39d428c83340';

/**
 * An alert event's id is a name-based UUID (v5) of tenant, alert id and transition: a batch or
 * sweep redone after a crash publishes the same ids, which consumers deduplicate on.
 */
export function alertEventId(
  tenant: string,
  alertId: string,
  transition: AlertTransition['transition'],
): string {
  return uuidv5(`${tenant}\n${alertId}\n${transition}`, ALERT_EVENT_NAMESPACE);
}

export type AlertEvent = EventOf<typeof EventType.alertRaised | typeof EventType.alertCleared>;

/** The event of one transition; its subject is the device, its time the transition's. */
export function alertEvent(tenant: string, transition: AlertTransition): AlertEvent {
  const { data } = transition;
  const envelope = {
    id: alertEventId(tenant, data.alertId, transition.transition),
    source: ALERTS_SOURCE,
    subject: data.deviceId,
    time: data.at,
    tenant,
  };
  return transition.transition === 'raised'
    ? { ...envelope, type: EventType.alertRaised, data: transition.data }
    : { ...envelope, type: EventType.alertCleared, data: transition.data };
}
