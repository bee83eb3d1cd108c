import type { Config } from '@gridstream/config';
import { rebuildProjection } from '@gridstream/projection';
import type { RebuildOptions, RebuildProgress } from '@gridstream/projection';
import { alertsProjection } from '@gridstream/projection-alerts';
import { commandsProjection } from '@gridstream/projection-commands';
import { devicesProjection, sitesProjection } from '@gridstream/projection-devices';
import { siteEnergyProjection } from '@gridstream/projection-site-energy';
import { progressLine } from './progress-line.ts';

/** The projections `gridstream rebuild` knows, by name. */
export const PROJECTIONS = {
  devices: devicesProjection,
  sites: sitesProjection,
  'site-energy': siteEnergyProjection,
  alerts: alertsProjection,
  commands: commandsProjection,
} as const;

export function isProjectionName(name: string): name is keyof typeof PROJECTIONS {
  return Object.hasOwn(PROJECTIONS, name);
}

function describe(p: RebuildProgress): string {
  const left =
    p.secondsLeft === undefined ? 'time left unknown' : `about ${Math.ceil(p.secondsLeft)} s left`;
  return `${p.buildId}: ${p.appliedEvents.toLocaleString('en-US')} events applied, ${Math.round(p.eventsPerSecond).toLocaleString('en-US')} events/s, ${p.lag.toLocaleString('en-US')} to go, ${left}`;
}

/** `gridstream rebuild <projection>`, with its progress on stderr. */
export async function rebuild(config: Config, name: keyof typeof PROJECTIONS): Promise<void> {
  const line = progressLine();
  const options: RebuildOptions = {
    log: (text) => {
      line.log(text);
    },
    progress: (progress) => {
      if (progress.lag === 0) line.log(describe(progress));
      else line.update(describe(progress));
    },
  };
  const result = await rebuildNamed(config, name, options);
  line.log(
    `rebuild ${name}: build ${result.buildId} is live (${result.appliedEvents.toLocaleString('en-US')} events in ${(result.ms / 1000).toFixed(1)} s)`,
  );
}

/**
 * One call per projection: each definition has its own document type. A switch TypeScript checks
 * for every name (a chain of conditions once sent `sites` to the alerts projection).
 */
function rebuildNamed(config: Config, name: keyof typeof PROJECTIONS, options: RebuildOptions) {
  switch (name) {
    case 'devices':
      return rebuildProjection(config, PROJECTIONS.devices, options);
    case 'sites':
      return rebuildProjection(config, PROJECTIONS.sites, options);
    case 'site-energy':
      return rebuildProjection(config, PROJECTIONS['site-energy'], options);
    case 'alerts':
      return rebuildProjection(config, PROJECTIONS.alerts, options);
    case 'commands':
      return rebuildProjection(config, PROJECTIONS.commands, options);
    default:
      return name satisfies never;
  }
}
