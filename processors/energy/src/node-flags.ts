// Apart from run.ts, so what starts the processor (gridstream run, up) need not load it.
/**
 * Node flags the processor runs with. A batch allocates many short-lived objects (decoded
 * events, stored readings, ILP rows); a larger young generation than V8's default (16 MiB) lets
 * them die in fewer scavenges: 64 MiB took it from 25,412 to 30,869 readings/s on 2026-11-24.
 * Since 2026-12-07 it is 32 MiB: with one worker and 4 MiB fetches, 416-438 MiB peak RSS against
 * 487-497 at 64 (54-57k against 52-58k readings/s, alternating pairs; docs/benchmarks.md,
 * "One worker under 400 MiB").
 */
export const ENERGY_PROCESSOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
