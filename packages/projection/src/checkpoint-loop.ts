import { setTimeout } from 'node:timers/promises';

/** What a failed checkpoint leads to: another try after a pause, or the end of the loop. */
export type CheckpointFailure = 'retry' | 'stop';

/**
 * A live build's checkpoints, one after another, so its commits never go back.
 * - `soon()` asks for one: it begins at once, or after the one under way.
 * - `hold()` keeps any from beginning until `release()` (a rejoin: the member's writes must not
 *   overlap those of the member given its partitions next) and resolves once the one under way
 *   has ended. What is asked meanwhile waits for the release.
 * - `stop()` ends the loop once the one under way has ended.
 *
 * The loop's handle is cleared after it is set, whenever the loop ends. (Inline in run-build, a
 * loop asked for while the member rejoined ended at once and cleared its handle before the
 * handle was set: every later ask then saw a loop under way, and the member never checkpointed
 * again. The fault suite caught it: 25,594 readings' offsets left uncommitted for good.)
 */
export class CheckpointLoop {
  #wanted = false;
  #held = false;
  #stopped = false;
  #loop: Promise<void> | undefined;

  readonly #checkpoint: () => Promise<void>;
  readonly #failed: (error: unknown) => CheckpointFailure;
  readonly #retryMs: number;

  constructor(
    checkpoint: () => Promise<void>,
    failed: (error: unknown) => CheckpointFailure,
    retryMs: number,
  ) {
    this.#checkpoint = checkpoint;
    this.#failed = failed;
    this.#retryMs = retryMs;
  }

  /** Whether checkpoints are held (between `hold()` and `release()`). */
  get held(): boolean {
    return this.#held;
  }

  /** Whether the loop has ended for good (`stop()`, or a failure that stops it). */
  get stopped(): boolean {
    return this.#stopped;
  }

  soon(): void {
    this.#wanted = true;
    if (this.#loop !== undefined || this.#held || this.#stopped) return;
    // (`finally` runs after this assignment, even when the loop ends at once)
    const loop = this.#run().finally(() => {
      this.#loop = undefined;
      // asked for after the loop's last look
      if (this.#wanted) this.soon();
    });
    this.#loop = loop;
  }

  /** Holds checkpoints back; resolves once the one under way (if any) has ended. */
  async hold(): Promise<void> {
    this.#held = true;
    await this.#loop;
  }

  /** Lets checkpoints begin again; one asked for while held begins now. */
  release(): void {
    this.#held = false;
    if (this.#wanted) this.soon();
  }

  /** Ends the loop; resolves once the checkpoint under way (if any) has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#wanted && !this.#held && !this.#stopped) {
      this.#wanted = false;
      try {
        await this.#checkpoint();
      } catch (error) {
        if (this.#failed(error) === 'stop') {
          this.#stopped = true;
          return;
        }
        this.#wanted = true;
        await setTimeout(this.#retryMs);
      }
    }
  }
}
