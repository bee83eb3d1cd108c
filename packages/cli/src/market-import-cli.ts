import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Config } from '@gridstream/config';
import { topicRetention } from '@gridstream/config';
import { decodeEvent, encodeEvent } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  createTopicsIfMissing,
  kafkaSettings,
  topicNames,
} from '@gridstream/kafka';
import { parseCarbonCsv } from './market-import-carbon-csv.ts';
import type { CarbonBasis, CarbonPoint } from './market-import-carbon-csv.ts';
import type { CsvProblem } from './market-import-csv.ts';
import { parsePriceCsv } from './market-import-prices-csv.ts';
import type { ParsedSeries, PricePoint } from './market-import-prices-csv.ts';
import {
  carbonEvent,
  carbonPublications,
  MARKET_TENANT,
  priceEvent,
  pricePublications,
  publishedAtOf,
} from './market-import-publications.ts';
import type { MarketEvent } from './market-import-publications.ts';
import { progressLine } from './progress-line.ts';
import type { ProgressLine } from './progress-line.ts';

export const PRICES_USAGE = `usage:
  gridstream prices import FILE [--zone Z] [--currency C] [--resolution 15|60]
                                [--published-at TIME] [--dry-run]
      publish the day-ahead prices of FILE on the market topic, one publication per zone and
      UTC day. FILE is an ENTSO-E Transparency Platform export ("MTU (CET/CEST)",
      "Day-ahead Price [EUR/MWh]" or "(EUR/MWh)", ...: zone from its Area or BZN column, else
      --zone) or a plain start,price with UTC ISO instants (--zone and --currency needed).
      Missing prices (-, n/e, empty) are skipped and counted. A bad row is reported with its
      line and column, and then nothing is published (exit 1). publishedAt is --published-at,
      else the file's modification time: the same file again publishes the same publications,
      a corrected (newer) file wins. Exit 64 for a file or header that cannot be read.`;

export const CARBON_USAGE = `usage:
  gridstream carbon import FILE [--zone Z] [--basis lca|direct] [--resolution 15|60]
                                [--published-at TIME] [--dry-run]
      publish the grid carbon intensity (gCO2e/kWh) of FILE on the market topic, one
      publication per zone and UTC day. FILE is an Electricity Maps export ("Datetime (UTC)",
      "Zone Id", "Carbon Intensity gCO₂eq/kWh (LCA)" or "(Life cycle)", "(direct)"; --basis
      picks one, default lca) or a plain start,gCO2e/kWh with UTC ISO instants (--zone needed).
      Hourly, or 15-minute where a start is not on the hour (--resolution overrides). Missing
      values, bad rows, publishedAt and exit codes as for prices import.`;

/** Bad rows printed at most; the count of the others follows. */
const MAX_PRINTED_PROBLEMS = 50;
/** Publications sent per request (a day of 15-minute prices is about 6 KB). */
const PUBLISH_BATCH = 50;

function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function resolutionOf(text: string | undefined): 15 | 60 | undefined {
  if (text === undefined) return undefined;
  if (text === '15') return 15;
  if (text === '60') return 60;
  throw new RangeError(`--resolution ${text}: 15 or 60`);
}

function basisOf(text: string | undefined): CarbonBasis | undefined {
  if (text === undefined || text === 'lca' || text === 'direct') return text;
  throw new RangeError(`--basis ${text}: lca or direct`);
}

export function problemLine(problem: CsvProblem): string {
  return `line ${problem.line}, column ${JSON.stringify(problem.column)}: ${problem.message}`;
}

/** Publishes events a batch at a time, the progress on stderr. */
export async function publishMarketEvents(
  config: Config,
  events: readonly MarketEvent[],
  progress: ProgressLine,
  label: string,
): Promise<void> {
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-market-import`));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS, topicRetention(config));
  const publisher = await createEventPublisher(kafka, topics);
  try {
    for (let start = 0; start < events.length; start += PUBLISH_BATCH) {
      await publisher.publish(events.slice(start, start + PUBLISH_BATCH));
      const done = Math.min(start + PUBLISH_BATCH, events.length);
      progress.update(
        `${label} ${bar(done / events.length)} ${done} of ${events.length} publications (${Math.round((done / events.length) * 100)} %)`,
      );
    }
  } finally {
    await publisher.disconnect();
  }
}

/**
 * `gridstream prices import` and `gridstream carbon import`: read, check everything, then
 * publish (or with --dry-run print) the publications. Returns the exit code; throws a
 * RangeError for a usage mistake (exit 64).
 */
export async function marketImportCommand(
  config: Config,
  kind: 'prices' | 'carbon',
  argv: readonly string[],
  out: (line: string) => void,
  progress: ProgressLine = progressLine(),
  nowMs: number = Date.now(),
): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      zone: { type: 'string' },
      currency: { type: 'string' },
      resolution: { type: 'string' },
      basis: { type: 'string' },
      'published-at': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const [action, file, ...rest] = positionals;
  if (action !== 'import') throw new RangeError(`unknown: ${kind} ${action ?? ''}`);
  if (file === undefined) throw new RangeError(`${kind} import: which file?`);
  if (rest.length > 0) throw new RangeError(`one file at a time, not ${rest.join(' ')}`);
  if (kind === 'carbon' && values.currency !== undefined)
    throw new RangeError('--currency: carbon intensity has no currency');
  if (kind === 'prices' && values.basis !== undefined)
    throw new RangeError('--basis: only for carbon import');
  const label = `${kind} import`;
  let text: string;
  let modifiedMs: number;
  try {
    text = await readFile(file, 'utf8');
    modifiedMs = (await stat(file)).mtimeMs;
  } catch (error) {
    throw new RangeError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const publishedAt = publishedAtOf(values['published-at'], modifiedMs, nowMs);
  const resolutionMinutes = resolutionOf(values.resolution);
  let parsed: ParsedSeries<PricePoint> | ParsedSeries<CarbonPoint>;
  let events: MarketEvent[];
  if (kind === 'prices') {
    const prices = parsePriceCsv(text, {
      zone: values.zone,
      currency: values.currency?.toUpperCase(),
      resolutionMinutes,
    });
    parsed = prices;
    events = pricePublications(prices.points, publishedAt).map(priceEvent);
  } else {
    const carbon = parseCarbonCsv(text, {
      zone: values.zone,
      resolutionMinutes,
      basis: basisOf(values.basis),
    });
    parsed = carbon;
    events = carbonPublications(carbon.points, publishedAt).map(carbonEvent);
  }
  if (parsed.problems.length > 0) {
    for (const problem of parsed.problems.slice(0, MAX_PRINTED_PROBLEMS)) out(problemLine(problem));
    if (parsed.problems.length > MAX_PRINTED_PROBLEMS)
      out(`… and ${parsed.problems.length - MAX_PRINTED_PROBLEMS} more bad rows`);
    out(`${label}: ${parsed.problems.length} bad rows in ${file}; nothing published`);
    return 1;
  }
  // Each publication checked as a consumer will decode it (headers, key, zod schema) before
  // anything is sent: a file is published whole or not at all.
  const refused = events.flatMap((event) => {
    const decoded = decodeEvent(encodeEvent(event));
    return decoded.ok ? [] : [`publication ${event.data.id}: ${decoded.reason}`];
  });
  if (refused.length > 0) {
    for (const line of refused) out(line);
    out(`${label}: ${refused.length} publications refused; nothing published`);
    return 1;
  }
  const zones = [...new Set(parsed.points.map((p) => p.zone))].sort();
  const summary = `${label}: ${parsed.points.length} points in ${events.length} publications for ${zones.length === 1 ? 'zone' : 'zones'} ${zones.join(', ') || '(none)'}, ${parsed.missingValues} skipped missing values${parsed.otherSequenceRows > 0 ? `, ${parsed.otherSequenceRows} rows of later auctions (Sequence 2 and up) ignored` : ''}`;
  if (events.length === 0) {
    out(`${summary}; nothing to publish`);
    return 1;
  }
  if (values['dry-run']) {
    for (const event of events) {
      const points = event.data.points;
      out(
        `would publish ${event.type} key ${event.subject}: id ${event.data.id}, publishedAt ${event.data.publishedAt}, ${points.length} points of ${event.data.resolutionMinutes} min from ${points[0]?.start ?? '?'} to ${points[points.length - 1]?.start ?? '?'}`,
      );
    }
    out(
      `${summary} (dry run: nothing published; ${parsed.layout} layout, tenant ${MARKET_TENANT})`,
    );
    return 0;
  }
  const startedMs = performance.now();
  await publishMarketEvents(config, events, progress, label);
  progress.log(
    `${label}: ${events.length} publications sent in ${((performance.now() - startedMs) / 1000).toFixed(1)} s (${parsed.layout} layout, publishedAt ${publishedAt}, tenant ${MARKET_TENANT})`,
  );
  out(summary);
  return 0;
}
