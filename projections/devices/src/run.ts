import type { Config } from '@gridstream/config';
import { startLiveProjection } from '@gridstream/projection';
import type { LiveOptions, LiveProjection } from '@gridstream/projection';
import { devicesProjection } from './store.ts';

/** Runs the devices projection: devices and readings topics in, MongoDB documents out. */
export function startDevicesProjection(
  config: Config,
  options: LiveOptions = {},
): Promise<LiveProjection> {
  return startLiveProjection(config, devicesProjection, options);
}
