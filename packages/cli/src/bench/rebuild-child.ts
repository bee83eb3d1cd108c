import { Writable } from 'node:stream';
import { loadConfigOrExit } from '@gridstream/config';
import { connectMongo } from '@gridstream/mongo';
import { rebuildProjection } from '@gridstream/projection';
import { devicesProjection } from '@gridstream/projection-devices';
import { replayEvents } from '../replay/replay.ts';

/** What the child tells `bench rebuild`, one JSON line a phase on stdout. */
export type RebuildChildLine =
  | {
      readonly phase: 'rebuild';
      readonly events: number;
      readonly ms: number;
      readonly buildId: string;
      readonly documents: number;
      /** The process's peak resident memory so far (getrusage), MiB. */
      readonly peakRssMiB: number;
    }
  | {
      readonly phase: 'replay';
      readonly events: number;
      readonly ms: number;
      readonly peakRssMiB: number;
    };

const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;
const say = (line: RebuildChildLine) => process.stdout.write(`${JSON.stringify(line)}\n`);

/** A sink that drops what it is given, so the replay figure is the replay's, not a disk's. */
function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
}

// `bench rebuild`'s rebuild and replay, in a process of their own so that their memory is theirs
// alone (the bench's loading of the log is not in it): the devices projection rebuilt from the
// log (no live service runs, so the switch is immediate), then the log replayed to NDJSON.
const config = loadConfigOrExit();
const rebuilt = await rebuildProjection(config, devicesProjection, {
  servedTimeoutMs: 0,
  caughtUpLag: 0,
});
const mongo = await connectMongo(config);
try {
  say({
    phase: 'rebuild',
    events: rebuilt.appliedEvents,
    ms: rebuilt.caughtUpMs,
    buildId: rebuilt.buildId,
    documents: await mongo.db.collection(`devices_${rebuilt.buildId}`).countDocuments(),
    peakRssMiB: peakRssMiB(),
  });
} finally {
  await mongo.close();
}
const replayed = await replayEvents(config, {
  filter: { fromMs: 0, toMs: Number.MAX_SAFE_INTEGER },
  format: 'ndjson',
  out: discard(),
});
say({ phase: 'replay', events: replayed.written, ms: replayed.ms, peakRssMiB: peakRssMiB() });
