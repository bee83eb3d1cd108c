import type { Config } from '@gridstream/config';
import { rebuildProjection } from '@gridstream/projection';
import type { RebuildProgress } from '@gridstream/projection';
import { devicesProjection } from '@gridstream/projection-devices';

/** The projections `gridstream rebuild` knows, by name. */
export const PROJECTIONS = { devices: devicesProjection } as const;

export function isProjectionName(name: string): name is keyof typeof PROJECTIONS {
  return Object.hasOwn(PROJECTIONS, name);
}

function describe(p: RebuildProgress): string {
  const left =
    p.secondsLeft === undefined ? 'time left unknown' : `about ${Math.ceil(p.secondsLeft)} s left`;
  return `${p.buildId}: ${p.appliedEvents.toLocaleString('en-US')} events applied, ${Math.round(p.eventsPerSecond).toLocaleString('en-US')} events/s, ${p.lag.toLocaleString('en-US')} to go, ${left}`;
}

/**
 * `gridstream rebuild <projection>`: progress on stderr, redrawn in place on a terminal and one
 * line every few seconds otherwise (CI logs, pipes).
 */
export async function rebuild(
  config: Config,
  name: keyof typeof PROJECTIONS,
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<void> {
  const log = (line: string) => stderr.write(`${stderr.isTTY ? '\r\x1b[2K' : ''}${line}\n`);
  let lastLineMs = 0;
  const result = await rebuildProjection(config, PROJECTIONS[name], {
    log,
    progress: (progress) => {
      if (stderr.isTTY) {
        stderr.write(`\r\x1b[2K${describe(progress)}`);
      } else if (Date.now() - lastLineMs >= 5_000 || progress.lag === 0) {
        lastLineMs = Date.now();
        stderr.write(`${describe(progress)}\n`);
      }
    },
  });
  log(
    `rebuild ${name}: build ${result.buildId} is live (${result.appliedEvents.toLocaleString('en-US')} events in ${(result.ms / 1000).toFixed(1)} s)`,
  );
}
