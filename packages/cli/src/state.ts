import { questDbConnection } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { loadDeviceStateAt } from '@gridstream/projection-devices';
import { createQuestDbReader, eventsTableName, readingsTableName } from '@gridstream/questdb';

/**
 * `gridstream state <device> --at <time>`: the device's view as of that instant, folded from
 * its archived events, as JSON on stdout. Throws a RangeError for a bad argument.
 */
export async function printDeviceState(
  config: Config,
  tenant: string,
  deviceId: string | undefined,
  at: string | undefined,
): Promise<void> {
  if (deviceId === undefined)
    throw new RangeError('state of which device? gridstream state <device> --at <time>');
  const atMs = at === undefined ? Date.now() : Date.parse(at);
  if (Number.isNaN(atMs)) throw new RangeError(`--at ${at ?? ''} is not a time (RFC 3339)`);
  const reader = createQuestDbReader(questDbConnection(config));
  try {
    const view = await loadDeviceStateAt(
      reader,
      {
        events: eventsTableName(config.GS_QDB_TABLE_PREFIX),
        readings: readingsTableName(config.GS_QDB_TABLE_PREFIX),
      },
      tenant,
      deviceId,
      atMs,
    );
    if (view === null) {
      throw new RangeError(
        `no event of ${tenant}/${deviceId} at or before ${new Date(atMs).toISOString()}`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({ at: new Date(atMs).toISOString(), ...view }, null, 2)}\n`,
    );
  } finally {
    await reader.close();
  }
}
