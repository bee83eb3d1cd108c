/**
 * The V8 heap limits of one worker thread, as worker_threads' `resourceLimits` takes them
 * (V8's young generation is three semi-spaces: two, and the new large-object space).
 */
export interface WorkerHeapLimits {
  readonly maxOldGenerationSizeMb: number;
  readonly maxYoungGenerationSizeMb: number;
}

/** The heap flags a node process was started with; undefined where it was not given one. */
export interface ProcessHeapFlags {
  readonly maxOldSpaceMiB: number | undefined;
  readonly maxSemiSpaceMiB: number | undefined;
}

/**
 * Old generation kept for the thread that starts the workers: it serves the health port and
 * nothing else (a few MiB). Its isolate is the process's own, so this is set aside, not enforced.
 */
export const MAIN_THREAD_OLD_GENERATION_MIB = 16;

/** Below this a worker spends its time in full collections; a bound that small is a mistake. */
const MIN_WORKER_OLD_GENERATION_MIB = 32;

/** V8's default semi-space on 64-bit, when the process was given none. */
const DEFAULT_SEMI_SPACE_MIB = 16;

/** V8's young generation: two semi-spaces and a new large-object space of the same size. */
const YOUNG_GENERATION_SEMI_SPACES = 3;

/**
 * The heap flags of a process: NODE_OPTIONS first, then its own command line, which wins
 * (`--max-old-space-size=N`, V8's underscores too).
 */
export function processHeapFlags(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): ProcessHeapFlags {
  const args = [...(nodeOptions ?? '').split(/\s+/), ...execArgv];
  const last = (flag: string): number | undefined => {
    let value: number | undefined;
    for (const arg of args) {
      const match = /^--([a-z_-]+)=(\d+)$/.exec(arg);
      if (match?.[1]?.replaceAll('_', '-') === flag) value = Number(match[2]);
    }
    return value;
  };
  return {
    maxOldSpaceMiB: last('max-old-space-size'),
    maxSemiSpaceMiB: last('max-semi-space-size'),
  };
}

/**
 * Splits the heap a process was given among `workers` worker threads, so the process as a whole
 * stays within its flags as one isolate would: each worker gets an equal share of the old
 * generation, less the main thread's, and of the semi-space. Without a share a worker is a
 * whole process's heap again (V8 gives every isolate the process's flags), and two workers hold
 * twice the memory one does.
 */
export function workerHeapLimits(
  flags: ProcessHeapFlags & { readonly maxOldSpaceMiB: number },
  workers: number,
): WorkerHeapLimits {
  if (!Number.isInteger(workers) || workers < 1)
    throw new RangeError(`workers must be a positive integer, not ${workers}`);
  const oldMiB = Math.floor((flags.maxOldSpaceMiB - MAIN_THREAD_OLD_GENERATION_MIB) / workers);
  const semiSpaceMiB = Math.max(
    1,
    Math.floor((flags.maxSemiSpaceMiB ?? DEFAULT_SEMI_SPACE_MIB) / workers),
  );
  return {
    maxOldGenerationSizeMb: Math.max(MIN_WORKER_OLD_GENERATION_MIB, oldMiB),
    maxYoungGenerationSizeMb: YOUNG_GENERATION_SEMI_SPACES * semiSpaceMiB,
  };
}
