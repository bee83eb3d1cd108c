import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointLoop } from './checkpoint-loop.ts';

/** Lets the microtasks and the loop's `finally` run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A checkpoint that ends when the test says, counting how many ran and how many at once. */
function controlledCheckpoints() {
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const stats = { begun: 0, running: 0, mostAtOnce: 0 };
  const checkpoint = () =>
    new Promise<void>((resolve, reject) => {
      stats.begun++;
      stats.running++;
      stats.mostAtOnce = Math.max(stats.mostAtOnce, stats.running);
      const done = () => {
        stats.running--;
      };
      pending.push({
        resolve: () => {
          done();
          resolve();
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
    });
  return { checkpoint, pending, stats };
}

describe('CheckpointLoop', () => {
  it('runs a checkpoint asked for while held once it is released', async () => {
    const { checkpoint, pending, stats } = controlledCheckpoints();
    const loop = new CheckpointLoop(checkpoint, () => 'retry', 1);
    await loop.hold();
    // a batch done while the member rejoins
    loop.soon();
    await settle();
    expect(stats.begun).toBe(0);
    loop.release();
    await settle();
    expect(stats.begun).toBe(1);
    pending.shift()?.resolve();
    await settle();
    // and it asks again later (the rejoin's loop that ended at once once left its handle set,
    // so every later ask saw a loop under way and nothing ran again)
    loop.soon();
    await settle();
    expect(stats.begun).toBe(2);
  });

  it('waits in hold() for the checkpoint under way, and begins none until released', async () => {
    const { checkpoint, pending, stats } = controlledCheckpoints();
    const loop = new CheckpointLoop(checkpoint, () => 'retry', 1);
    loop.soon();
    await settle();
    expect(stats.begun).toBe(1);
    let heldDone = false;
    const held = loop.hold().then(() => {
      heldDone = true;
    });
    loop.soon();
    await settle();
    expect(heldDone).toBe(false);
    pending.shift()?.resolve();
    await held;
    await settle();
    // the ask during the checkpoint waits for the release
    expect(stats.begun).toBe(1);
    loop.release();
    await settle();
    expect(stats.begun).toBe(2);
  });

  it('tries a failed checkpoint again, and ends for good on a failure that stops it', async () => {
    const { checkpoint, pending, stats } = controlledCheckpoints();
    const failures: string[] = [];
    const loop = new CheckpointLoop(
      checkpoint,
      (error) => {
        failures.push((error as Error).message);
        return (error as Error).message === 'conflict' ? 'stop' : 'retry';
      },
      1,
    );
    loop.soon();
    await settle();
    pending.shift()?.reject(new Error('unavailable'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stats.begun).toBe(2);
    pending.shift()?.reject(new Error('conflict'));
    await settle();
    expect(loop.stopped).toBe(true);
    loop.soon();
    loop.release();
    await settle();
    expect(stats.begun).toBe(2);
    expect(failures).toEqual(['unavailable', 'conflict']);
  });

  it('never runs two at once nor one while held or stopped, and runs every ask in the end', async () => {
    type Step = 'soon' | 'hold' | 'release' | 'finish' | 'stop';
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Step>('soon', 'soon', 'hold', 'release', 'finish', 'finish'), {
          maxLength: 40,
        }),
        fc.boolean(),
        async (steps, stopAtEnd) => {
          const { checkpoint, pending, stats } = controlledCheckpoints();
          const loop = new CheckpointLoop(checkpoint, () => 'retry', 1);
          let held = false;
          const holds: Promise<void>[] = [];
          /** Checkpoints begun before the last ask: one begun after it answers it. */
          let begunAtLastAsk: number | undefined;
          for (const step of steps) {
            const begunBefore = stats.begun;
            if (step === 'soon') {
              begunAtLastAsk = stats.begun;
              loop.soon();
            } else if (step === 'hold') {
              held = true;
              holds.push(loop.hold());
            } else if (step === 'release') {
              held = false;
              loop.release();
            } else {
              pending.shift()?.resolve();
            }
            await settle();
            if (held) expect(stats.begun).toBe(begunBefore);
            expect(stats.mostAtOnce).toBeLessThanOrEqual(1);
          }
          // every hold resolves once what was under way has ended
          while (pending.length > 0) {
            pending.shift()?.resolve();
            await settle();
          }
          await Promise.all(holds);
          loop.release();
          await settle();
          // liveness: the last ask is answered once nothing holds the loop
          if (begunAtLastAsk !== undefined) expect(stats.begun).toBeGreaterThan(begunAtLastAsk);
          while (pending.length > 0) {
            pending.shift()?.resolve();
            await settle();
          }
          if (stopAtEnd) {
            const begun = stats.begun;
            await loop.stop();
            loop.soon();
            await settle();
            expect(stats.begun).toBe(begun);
          }
          expect(stats.mostAtOnce).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
