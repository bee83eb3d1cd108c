// Apart from run.ts, so what starts the processor (gridstream run, up) need not load it.
/**
 * Node flags the processor runs with. A batch allocates many short-lived objects (decoded
 * events, stored readings, ILP rows); a 64 MiB young generation (V8's default is 16 MiB) lets
 * them die in fewer scavenges. Measured: 25,412 -> 30,869 readings/s and processor CPU per
 * reading 37 -> 30 µs (`pnpm bench energy --readings 1000000`, docs/benchmarks.md).
 */
export const ENERGY_PROCESSOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
