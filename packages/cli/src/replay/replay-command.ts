import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { Config } from '@gridstream/config';
import type { TopicRole } from '@gridstream/kafka';
import { progressLine } from '../progress-line.ts';
import { resolveEventTypes } from './replay-record.ts';
import { EVENT_TOPICS, replayEvents } from './replay.ts';

export const REPLAY_USAGE = `usage: gridstream replay [options]

Writes the events whose event time is in [--from, --to) to stdout or a file, stopping at the
end of the log as it was when the replay started. Progress goes to stderr.

  --from TIME       start, inclusive (RFC 3339, e.g. 2026-11-24T00:00:00Z; default: the beginning)
  --to TIME         end, exclusive (default: now)
  --tenant T        only this tenant (repeat or comma-separate for several)
  --site S          only devices of this site
  --device D        only this device
  --type TYPE       only this event type (full, or short: reading.reported)
  --topic TOPIC     only this topic (${EVENT_TOPICS.join(', ')}; default: all of them)
  --format F        ndjson (default) or csv
  --out FILE        write here instead of stdout`;

const list = (values: readonly string[] | undefined) =>
  values === undefined ? undefined : values.flatMap((v) => v.split(',')).filter((v) => v !== '');

function time(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new RangeError(`--${name} ${value} is not a time (RFC 3339, e.g. 2026-11-24T00:00:00Z)`);
  return ms;
}

/** `gridstream replay …`; throws a RangeError for a bad option (the caller prints it, exit 64). */
export async function replayCommand(config: Config, argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      tenant: { type: 'string', multiple: true },
      site: { type: 'string', multiple: true },
      device: { type: 'string', multiple: true },
      type: { type: 'string', multiple: true },
      topic: { type: 'string', multiple: true },
      format: { type: 'string', default: 'ndjson' },
      out: { type: 'string' },
    },
  });
  const format = values.format;
  if (format !== 'ndjson' && format !== 'csv')
    throw new RangeError(`--format ${format}: ndjson or csv`);
  const topics = list(values.topic);
  const unknownTopic = topics?.find((t) => !(EVENT_TOPICS as readonly string[]).includes(t));
  if (unknownTopic !== undefined)
    throw new RangeError(`--topic ${unknownTopic}: one of ${EVENT_TOPICS.join(', ')}`);
  const fromMs = time('from', values.from, 0);
  const toMs = time('to', values.to, Date.now());
  if (toMs <= fromMs) throw new RangeError('--to must be after --from');
  const tenants = list(values.tenant);
  const devices = list(values.device);
  const types = list(values.type);

  const out = values.out === undefined ? process.stdout : createWriteStream(values.out);
  const line = progressLine();
  const result = await replayEvents(config, {
    filter: {
      fromMs,
      toMs,
      tenants: tenants && new Set(tenants),
      devices: devices && new Set(devices),
      types: types && resolveEventTypes(types),
    },
    sites: list(values.site),
    topics: topics as TopicRole[] | undefined,
    format,
    out,
    progress: (p) => {
      const percent = p.total === 0 ? 100 : Math.floor((p.scanned / p.total) * 100);
      const width = 30;
      const filled = Math.round((percent / 100) * width);
      line.update(
        `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent}% ${p.scanned.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} scanned, ${p.written.toLocaleString('en-US')} written, ${Math.round(p.eventsPerSecond).toLocaleString('en-US')} events/s`,
      );
    },
  });
  if (out !== process.stdout) {
    out.end();
    await finished(out);
  }
  line.log(
    `replay: ${result.written.toLocaleString('en-US')} of ${result.scanned.toLocaleString('en-US')} events scanned in ${(result.ms / 1000).toFixed(1)} s (${Math.round((result.scanned / Math.max(1, result.ms)) * 1000).toLocaleString('en-US')} events/s)`,
  );
}
