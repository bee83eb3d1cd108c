import { decodeEvent, EventType, implausibleTime } from '@gridstream/events';
import type { GridstreamEvent, RawRecord, TimePlausibility } from '@gridstream/events';
import { evolveDevice } from '@gridstream/projection-devices';
import type { DeviceView } from '@gridstream/projection-devices';

interface Latest {
  readonly timeMs: number;
  readonly record: RawRecord;
  /** The record decoded, once asked for: null when it does not decode as a reading. */
  decoded?: GridstreamEvent | null;
}

/**
 * The newest reading of each device this API instance has seen on the readings topic since it
 * started (the live source reads every partition), so that GET /v1/devices answers with a
 * reading as soon as it is in Kafka, not once the devices projection has written it: the
 * projection writes each device's document to MongoDB, which on FerretDB takes about a
 * millisecond a document, and at 10,000 readings/s it runs seconds behind (docs/benchmarks.md).
 *
 * The view is the projection's document folded with that reading by the projection's own fold
 * (evolveDevice), so it is the document the projection will write once it gets there: the
 * newest reading by measurement time wins, and a reading the document already has changes
 * nothing. A record is decoded only when a view asks for its device, with the projection's time
 * bounds; one the projection would dead-letter is left out. Devices beyond `maxDevices` push
 * out the one updated longest ago, whose view is then the projection's alone.
 */
export class LatestReadings {
  readonly #maxDevices: number;
  readonly #timeBounds: TimePlausibility;
  readonly #latest = new Map<string, Latest>();

  constructor(maxDevices: number, timeBounds: TimePlausibility) {
    this.#maxDevices = maxDevices;
    this.#timeBounds = timeBounds;
  }

  get size(): number {
    return this.#latest.size;
  }

  /**
   * A reading record seen on the readings topic: kept if it is its device's newest. `timeMs` is
   * its CloudEvents time header, `appendedMs` the record's timestamp (the broker's append time);
   * the record is asked for only when it is kept.
   */
  offer(
    tenant: string,
    deviceId: string,
    timeMs: number,
    appendedMs: number,
    record: () => RawRecord,
  ): void {
    if (this.#maxDevices === 0) return;
    // A reading timed ahead of the broker's clock is dead-lettered by the projection: held, it
    // would keep the device's plausible readings out.
    if (implausibleTime(timeMs, appendedMs, this.#timeBounds) !== undefined) return;
    const key = `${tenant}/${deviceId}`;
    const held = this.#latest.get(key);
    if (held !== undefined) {
      if (held.timeMs >= timeMs) return;
      // Deleted and set again: the map's order is the order of the last update.
      this.#latest.delete(key);
    } else if (this.#latest.size >= this.#maxDevices) {
      const oldest = this.#latest.keys().next();
      if (oldest.done !== true) this.#latest.delete(oldest.value);
    }
    this.#latest.set(key, { timeMs, record: record() });
  }

  /** The device's view with the newest reading seen folded in (the view itself if none is). */
  freshen(view: DeviceView): DeviceView {
    const held = this.#latest.get(`${view.tenant}/${view.deviceId}`);
    if (held === undefined) return view;
    if (held.decoded === undefined) {
      const decoded = decodeEvent(held.record, undefined, this.#timeBounds);
      held.decoded =
        decoded.ok &&
        decoded.event.type === EventType.readingReported &&
        decoded.event.tenant === view.tenant &&
        decoded.event.subject === view.deviceId
          ? decoded.event
          : null;
    }
    if (held.decoded !== null) return evolveDevice(view, held.decoded);
    // It does not decode (the projection dead-letters it): the device's next reading may take
    // its place.
    this.#latest.delete(`${view.tenant}/${view.deviceId}`);
    return view;
  }
}
