import type { PhaseValues, ReadingQuality } from '@gridstream/events';

/**
 * What a topic says about its message: the format, the tenant, and where the device is named.
 * The tenant is always the topic's second segment, which only the tenant's accounts may publish
 * under (the broker's ACLs), so it is trusted.
 */
export type TopicRoute =
  | {
      readonly format: 'gridstream';
      readonly tenant: string;
      readonly deviceId: string;
    }
  | {
      readonly format: 'shelly';
      readonly tenant: string;
      /** `gridstream/<tenant>/shelly/<name>`: the device's MQTT topic prefix, the mappings' key. */
      readonly root: string;
      /** `events/rpc` (notifications), `status/<component>`, or a topic without readings. */
      readonly kind: 'rpc' | 'status' | 'other';
      /** The component of a `status/<component>` topic, e.g. `switch:0`. */
      readonly component?: string;
    }
  | {
      readonly format: 'tasmota';
      readonly tenant: string;
      /** `gridstream/<tenant>/tasmota/<topic>`: the device's %topic%, the mappings' key. */
      readonly root: string;
      /** The %prefix%: `tele`, `stat` or `cmnd` unless the device renamed them. */
      readonly prefix: string;
      /** What follows the prefix: `SENSOR`, `STATE`, `LWT`, `RESULT`, … */
      readonly messageType: string;
    };

export type TopicFormat = TopicRoute['format'];

/** One channel of a Shelly or Tasmota device and the gridstream device it measures. */
export interface ChannelMapping {
  readonly channel: number;
  readonly deviceId: string;
  /** The zone of a device clock that sends local times without an offset (Tasmota). */
  readonly timeZone?: string;
}

/**
 * A reading as a payload describes it, in gridstream's units, not yet checked against the
 * catalogue's bounds or the clock (the bridge does that, as POST /v1/readings does).
 */
export interface CandidateReading {
  deviceId: string;
  /** When it was measured: RFC 3339 with `Z` or an offset. */
  time: string;
  powerW?: number;
  importWh?: number;
  exportWh?: number;
  voltageV?: number;
  currentA?: number;
  phases?: { l1?: PhaseValues; l2?: PhaseValues; l3?: PhaseValues };
  socPct?: number;
  temperatureC?: number;
  quality?: ReadingQuality;
  /** The producer's own event id (gridstream payloads only). */
  id?: string;
}

/** Why a message cannot become readings; the bridge's dead letters carry it as `x-reason`. */
export type DecodeReason =
  /** Larger than MAX_PAYLOAD_BYTES. */
  | 'too-large'
  /** Not UTF-8, or not JSON. */
  | 'not-json'
  /** JSON of the wrong shape for its topic's format. */
  | 'invalid-payload'
  /** A gridstream payload naming another device than its topic. */
  | 'device-mismatch'
  /** A Shelly or Tasmota message with measurements on no mapped channel. */
  | 'not-mapped'
  /** A mapping the decoder cannot use (a time zone this runtime does not know). */
  | 'invalid-mapping'
  /** A Shelly component with power or energy in it that gridstream does not read. */
  | 'unknown-component';

export type Decoded =
  /** May be empty: the message measures nothing (a status, a last will), which is no error. */
  | { readonly ok: true; readonly readings: CandidateReading[] }
  | { readonly ok: false; readonly reason: DecodeReason; readonly message: string };

export const refuse = (reason: DecodeReason, message: string): Decoded => ({
  ok: false,
  reason,
  message,
});

/** A message with nothing to record. A fresh array each time: callers may add to theirs. */
export const nothing = (): Decoded => ({ ok: true, readings: [] });
