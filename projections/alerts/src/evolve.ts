import { EventType } from '@gridstream/events';
import type {
  AlertClearReason,
  AlertKind,
  AlertRaisedV1,
  GridstreamEvent,
} from '@gridstream/events';

export type AlertStatus = 'open' | 'cleared';

/** One alert as dashboards read it. Times are RFC 3339 strings in UTC. */
export interface AlertView {
  readonly tenant: string;
  readonly alertId: string;
  readonly kind: AlertKind;
  readonly deviceId: string;
  readonly siteId?: string;
  readonly status: AlertStatus;
  readonly raisedAt: string;
  readonly clearedAt?: string;
  readonly clearReason?: AlertClearReason;
  /** What the alert was raised with (kind-specific: powerW and ratedPowerW, counters, gap ...). */
  readonly detail: AlertRaisedV1['detail'];
}

/** Which alert document an event changes: tenant first, alert ids are unique within a tenant. */
export function alertDocumentId(event: GridstreamEvent): string | undefined {
  if (event.type !== EventType.alertRaised && event.type !== EventType.alertCleared)
    return undefined;
  return `${event.tenant}/${event.data.alertId}`;
}

const isoUtc = (time: string) => new Date(time).toISOString();

/** What a raise and a clear both say of their alert. */
function alertOf(
  tenant: string,
  data: Pick<AlertRaisedV1, 'alertId' | 'kind' | 'deviceId' | 'siteId'>,
): Pick<AlertView, 'tenant' | 'alertId' | 'kind' | 'deviceId' | 'siteId'> {
  const { alertId, kind, deviceId, siteId } = data;
  return { tenant, alertId, kind, deviceId, ...(siteId === undefined ? {} : { siteId }) };
}

/**
 * Folds an alert event into its document. Cleared is final: a raised event repeated after the
 * clear (a sweep or batch redone after a crash publishes the same events again) changes nothing,
 * and a second clear keeps the first one's time. A clear seen without its raise still makes a
 * complete document: the cleared event carries the raise's time and detail.
 */
export function evolveAlert(state: AlertView | null, event: GridstreamEvent): AlertView | null {
  switch (event.type) {
    case EventType.alertRaised: {
      if (state !== null) return state;
      return {
        ...alertOf(event.tenant, event.data),
        status: 'open',
        raisedAt: isoUtc(event.data.at),
        detail: event.data.detail,
      };
    }
    case EventType.alertCleared: {
      if (state?.status === 'cleared') return state;
      const { at, raisedAt, reason, detail } = event.data;
      return {
        ...alertOf(event.tenant, event.data),
        raisedAt: state?.raisedAt ?? isoUtc(raisedAt),
        detail: state?.detail ?? detail,
        status: 'cleared',
        clearedAt: isoUtc(at),
        clearReason: reason,
      };
    }
    default:
      return state;
  }
}
