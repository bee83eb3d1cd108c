export type {
  CandidateReading,
  ChannelMapping,
  DecodeReason,
  Decoded,
  TopicFormat,
  TopicRoute,
} from './types.ts';
export { routeTopic } from './topics.ts';
export { decode } from './decode.ts';
export { MAX_PAYLOAD_BYTES } from './json.ts';
export { MAX_READINGS_PER_MESSAGE } from './gridstream.ts';
export { METERING_COMPONENTS } from './shelly-components.ts';
export { kWhToWh } from './tasmota.ts';
export { instantOfWallTime, parseDeviceTime } from './device-time.ts';
export type { DeviceTime } from './device-time.ts';
