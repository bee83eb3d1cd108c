import { describe, expect, it } from 'vitest';
import {
  MAIN_THREAD_OLD_GENERATION_MIB,
  processHeapFlags,
  workerHeapLimits,
} from './worker-heap.ts';

describe('the heap flags of a process', () => {
  it('are read from its command line, over NODE_OPTIONS, in either spelling', () => {
    // given flags in NODE_OPTIONS and on the command line
    const flags = processHeapFlags(
      ['--max_semi_space_size=64', '--max-old-space-size=320', '--enable-source-maps'],
      '--max-old-space-size=999 --max-semi-space-size=8',
    );
    // then the command line's win
    expect(flags).toEqual({ maxOldSpaceMiB: 320, maxSemiSpaceMiB: 64 });
  });

  it('are undefined where the process was given none', () => {
    expect(processHeapFlags([], undefined)).toEqual({
      maxOldSpaceMiB: undefined,
      maxSemiSpaceMiB: undefined,
    });
  });
});

describe("a worker's share of the heap", () => {
  it('is an equal part of the old generation left after the main thread, and of the semi-space', () => {
    // given a process of a 640 MiB bound (old generation 320) and 64 MiB semi-spaces
    // when two workers share it
    const limits = workerHeapLimits({ maxOldSpaceMiB: 320, maxSemiSpaceMiB: 64 }, 2);
    // then each gets half of what the main thread leaves, and a young generation of three
    // 32 MiB semi-spaces
    expect(limits).toEqual({ maxOldGenerationSizeMb: 152, maxYoungGenerationSizeMb: 96 });
    expect(2 * limits.maxOldGenerationSizeMb + MAIN_THREAD_OLD_GENERATION_MIB).toBeLessThanOrEqual(
      320,
    );
  });

  it("is V8's default semi-space split when the process was given none", () => {
    expect(workerHeapLimits({ maxOldSpaceMiB: 200, maxSemiSpaceMiB: undefined }, 4)).toEqual({
      maxOldGenerationSizeMb: 46,
      maxYoungGenerationSizeMb: 12,
    });
  });

  it('does not go below a working old generation, nor to no semi-space', () => {
    expect(workerHeapLimits({ maxOldSpaceMiB: 64, maxSemiSpaceMiB: 1 }, 8)).toEqual({
      maxOldGenerationSizeMb: 32,
      maxYoungGenerationSizeMb: 3,
    });
  });

  it('takes a positive whole number of workers', () => {
    expect(() => workerHeapLimits({ maxOldSpaceMiB: 320, maxSemiSpaceMiB: 64 }, 0)).toThrow(
      RangeError,
    );
  });
});
