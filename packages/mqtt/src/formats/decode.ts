import { decodeGridstream } from './gridstream.ts';
import { parseJson } from './json.ts';
import { decodeShelly } from './shelly.ts';
import { decodeTasmota } from './tasmota.ts';
import type { ChannelMapping, Decoded, TopicRoute } from './types.ts';

/**
 * One MQTT message as candidate readings, pure: the route from routeTopic, the payload's bytes,
 * the tenant's mappings of the route's root (none for gridstream topics) and when the bridge
 * received it (the time of a reading whose payload has none). Never throws for any payload.
 */
export function decode(
  route: TopicRoute,
  payload: Uint8Array,
  mappings: readonly ChannelMapping[],
  receivedAtMs: number,
): Decoded {
  switch (route.format) {
    case 'gridstream': {
      const parsed = parseJson(payload);
      return parsed.ok ? decodeGridstream(route.deviceId, parsed.json, receivedAtMs) : parsed;
    }
    case 'shelly':
      return decodeShelly(route, payload, mappings, receivedAtMs);
    case 'tasmota':
      return decodeTasmota(route, payload, mappings, receivedAtMs);
  }
}
