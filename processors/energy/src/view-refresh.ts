import { refreshEnergyViews, waitForWalApplied } from '@gridstream/questdb';
import type { EnergyTables, QuestDbReader } from '@gridstream/questdb';

/**
 * Keeps the energy views fresh without refreshing them after every transaction: a write marks
 * them stale, and a stale view is refreshed `intervalMs` later, once the device rows written
 * before then are applied. So a view lags the processor's writes by about `intervalMs` plus the
 * refresh itself, and QuestDB refreshes at most once per interval however many batches commit.
 */
export class ViewRefresher {
  readonly #reader: QuestDbReader;
  readonly #tables: EnergyTables;
  readonly #intervalMs: number;
  readonly #log: (line: string) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: {
    reader: QuestDbReader;
    tables: EnergyTables;
    intervalMs: number;
    log: (line: string) => void;
  }) {
    this.#reader = options.reader;
    this.#tables = options.tables;
    this.#intervalMs = options.intervalMs;
    this.#log = options.log;
  }

  /** The device rows changed: refresh the views within the interval. */
  stale(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#running.then(() => this.#refresh());
    }, this.#intervalMs);
  }

  /** Refreshes once more if anything is stale, then stops. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#running = this.#running.then(() => this.#refresh());
    }
    await this.#running;
  }

  async #refresh(): Promise<void> {
    try {
      await waitForWalApplied(this.#reader, this.#tables.deviceEnergy15m);
      await refreshEnergyViews(this.#reader, this.#tables);
    } catch (error) {
      // A missed refresh is made up by the next one; the rows themselves are durable.
      this.#log(
        `energy processor: view refresh failed (${(error as Error).message}); the next write retries it`,
      );
    }
  }
}
