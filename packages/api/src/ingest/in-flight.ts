/** A slot of an InFlightLimit: given back once, however many times `release` is called. */
export interface InFlightSlot {
  release(): void;
}

/**
 * A bound on the batches one API process holds at once (GS_API_INGEST_MAX_IN_FLIGHT): beyond
 * it a batch is shed (503) before its body is read, so a burst that Kafka or the workers cannot
 * keep up with costs memory and latency of a bounded number of batches, not of all of them.
 */
export class InFlightLimit {
  readonly max: number;
  #inFlight = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max ${max}: a positive integer`);
    this.max = max;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** A slot, or undefined when all `max` are taken. */
  tryTake(): InFlightSlot | undefined {
    if (this.#inFlight >= this.max) return undefined;
    this.#inFlight++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.#inFlight--;
      },
    };
  }
}
