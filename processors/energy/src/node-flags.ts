// Apart from run.ts, so what starts the processor (gridstream run, up) need not load it.
/**
 * Node flags the processor runs with.
 *
 * A batch's decoded records and events live until QuestDB has its rows. With V8's own heap
 * growing factor the old generation's limit stayed about 30 MB above the live heap (77-83 MB
 * after each full collection): at full rate a full collection every 330 ms, each 5-24 ms of
 * pause and up to 71 ms of marking steps on the processor's thread (`--trace-gc`, 50 in a run of
 * 1,000,000 readings). `--heap-growing-percent=200` lets the old generation grow to three times
 * the live heap before the next: 17 in the same run, 155-177 MB before each and 70-82 after.
 * The young generation can then be small (8 MiB semi-spaces, 447 scavenges against 91 at 32).
 * `bench energy`, 1,000,000 readings, alternating with the flags before (a 32 MiB semi-space
 * alone): 75,435-79,070 readings/s at 348-369 MiB peak RSS against 63,159-67,690/s at 325-337
 * MiB, processor CPU 13-14 µs a reading against 17-18 (docs/benchmarks.md, "The old
 * generation's growing factor").
 */
export const ENERGY_PROCESSOR_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=8',
  '--heap-growing-percent=200',
];
