// The processor's parts its own benchmark drives without servers (packages/cli/src/bench/energy-path.ts).
export { EnergyBatch } from './energy-batch.ts';
export { bufferDeviceQuarterRow } from './energy-rows.ts';
export { deviceWindows } from './run.ts';
export { DeviceTimelines } from './timelines.ts';
