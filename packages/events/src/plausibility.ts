/**
 * What gridstream accepts as physically possible. A value outside these bounds is a producer's
 * bug or an attack, never a measurement: kept, it would pin a device's "last reading" in the
 * year 9999, overflow a sum, or make a sink refuse the batch it is in. The API answers 400
 * naming the field; a record sent straight to Kafka goes to the DLQ with the reason
 * (docs/events.md, "Plausibility").
 *
 * The bounds of values are fixed here, generous enough for the largest real installation;
 * the bounds of time are settings (GS_EVENT_EARLIEST_TIME, GS_EVENT_MAX_AHEAD_MS).
 */
export const PhysicalLimit = {
  /** |power| of one device or connection point: 1 GW, a large power station. */
  powerW: 1e9,
  /** A cumulative counter register: 1 PWh (9 digits of MWh, the largest grid meters). */
  counterWh: 1e15,
  /** A voltage: 1 MV, above the highest transmission voltage in service. */
  voltageV: 1e6,
  /** |current|: 1 MA. */
  currentA: 1e6,
  /** A device temperature in °C: sensors of energy devices read within this range. */
  temperatureMinC: -100,
  temperatureMaxC: 250,
} as const;

/** The bounds on an event's time (CloudEvents `time`). */
export interface TimePlausibility {
  /** Nothing happened before this instant (ms since the epoch). */
  readonly earliestMs: number;
  /**
   * How far an event's time may be ahead of the clock that received it: the API's clock, or for
   * a record in Kafka the broker's append time (the record's timestamp), so that a replay years
   * later decides exactly as the live consumer did.
   */
  readonly maxAheadMs: number;
}

export const DEFAULT_TIME_PLAUSIBILITY: TimePlausibility = {
  earliestMs: Date.UTC(2000, 0, 1),
  // Replay reads from the offset of `from` less five minutes (packages/cli/src/replay): an event
  // may be at most that far ahead of its record's timestamp for replay to find it.
  maxAheadMs: 5 * 60_000,
};

/**
 * Why an event time is implausible, or undefined when it is plausible. `receivedMs` is the
 * receiving clock (see TimePlausibility); without one only the earliest bound is checked.
 */
export function implausibleTime(
  timeMs: number,
  receivedMs: number | undefined,
  bounds: TimePlausibility,
): string | undefined {
  if (!Number.isFinite(timeMs)) return 'is not a valid instant';
  if (timeMs < bounds.earliestMs)
    return `is before the earliest accepted instant ${new Date(bounds.earliestMs).toISOString()}`;
  if (receivedMs !== undefined && timeMs > receivedMs + bounds.maxAheadMs)
    return `is more than ${bounds.maxAheadMs} ms ahead of the time it was received (${new Date(receivedMs).toISOString()})`;
  return undefined;
}
