import type { Config } from '@gridstream/config';
import { startLiveProjection } from '@gridstream/projection';
import type { LiveOptions, LiveProjection } from '@gridstream/projection';
import { sitesProjection } from './sites.ts';
import { devicesProjection } from './store.ts';

/** Runs the devices projection: devices and readings topics in, MongoDB documents out. */
export function startDevicesProjection(
  config: Config,
  options: LiveOptions = {},
): Promise<LiveProjection> {
  return startLiveProjection(config, devicesProjection, options);
}

/** Runs the sites projection: the site events of the devices topic in, MongoDB documents out. */
export function startSitesProjection(
  config: Config,
  options: LiveOptions = {},
): Promise<LiveProjection> {
  return startLiveProjection(config, sitesProjection, options);
}

/**
 * The registry's read models in one service: devices and sites. Both follow the devices topic
 * (sites only that), each in its own consumer group, so either can be rebuilt on its own.
 */
export async function startRegistryProjections(
  config: Config,
  options: LiveOptions = {},
): Promise<{ stop(): Promise<void> }> {
  const devices = await startDevicesProjection(config, options);
  try {
    const sites = await startSitesProjection(config, options);
    return {
      async stop() {
        await Promise.all([devices.stop(), sites.stop()]);
      },
    };
  } catch (error) {
    await devices.stop();
    throw error;
  }
}
