import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { decodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { createKafka, kafkaSettings, readTopicToEnd, topicNames } from '@gridstream/kafka';
import { isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

// `gridstream prices import` and `carbon import` as an operator runs them: the real command
// against the real Kafka, the market topic read back and decoded as a consumer decodes it.
const config = isolatedConfig();
teardown(config);
const kafka = createKafka(kafkaSettings(config, 'e2e-market-import'));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function gridstream(...argv: string[]) {
  const result = spawnSync(process.execPath, [MAIN, ...argv], {
    env: {
      ...process.env,
      ...inject('stack').loginEnv,
      GS_KAFKA_BROKERS: config.GS_KAFKA_BROKERS.join(','),
      GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
      GS_TOPIC_PARTITIONS: String(config.GS_TOPIC_PARTITIONS),
      GS_LOG_LEVEL: 'silent',
    },
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface MarketRecord {
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly event: GridstreamEvent;
}

async function marketRecords(): Promise<MarketRecord[]> {
  const messages = await readTopicToEnd(kafka, topicNames(config.GS_TOPIC_PREFIX).market);
  return messages.map((message) => {
    const decoded = decodeEvent(message);
    if (!decoded.ok) throw new Error(`a market record does not decode: ${decoded.reason}`);
    return {
      key: message.key?.toString('utf8') ?? '',
      value: message.value?.toString('utf8') ?? '',
      headers: Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
      ),
      event: decoded.event,
    };
  });
}

describe('gridstream prices import and carbon import', () => {
  it('refuses a file with a bad row and publishes nothing of it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridstream-market-'));
    const bad = join(dir, 'bad.csv');
    await writeFile(
      bad,
      'start,price\n2026-01-01T00:00:00Z,50\n2026-01-01T01:00:00Z,fifty\n2026-01-01T02:00:00Z,52\n',
    );
    const result = gridstream('prices', 'import', bad, '--zone', 'NL', '--currency', 'EUR');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('line 3, column "price": "fifty" is not a decimal number');
    expect(result.stdout).toContain('1 bad rows');
    // nothing reached Kafka: the topic was not even created by the refused import
    const created = kafka.admin();
    await created.connect();
    try {
      expect(await created.listTopics()).not.toContain(topicNames(config.GS_TOPIC_PREFIX).market);
    } finally {
      await created.disconnect();
    }
  });

  it('publishes an ENTSO-E file as decodable publications per UTC day, and the same bytes again on re-import', async () => {
    // given the older ENTSO-E export of DE-LU's fall-back day, last modified at a known time
    const dir = await mkdtemp(join(tmpdir(), 'gridstream-market-'));
    const file = join(dir, 'Day-ahead Prices_202410270000-202410280000.csv');
    await copyFile(fixture('market-import-entsoe-legacy-fallback.csv'), file);
    const modified = new Date('2024-10-26T11:05:42.250Z');
    await utimes(file, modified, modified);

    const first = gridstream('prices', 'import', file);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe(
      'prices import: 24 points in 2 publications for zone DE-LU, 1 skipped missing values',
    );
    expect(first.stderr).toMatch(/prices import: 2 publications sent in/);

    const records = await marketRecords();
    expect(records).toHaveLength(2);
    for (const record of records) {
      expect(record.event.type).toBe(EventType.dayAheadPricesPublished);
      expect(record.key).toBe('DE-LU');
      expect(record.event.tenant).toBe('public');
      expect(record.event.time).toBe('2024-10-26T11:05:42Z');
    }
    const publications = records
      .map((r) => r.event)
      .filter(
        (e): e is Extract<GridstreamEvent, { type: typeof EventType.dayAheadPricesPublished }> =>
          e.type === EventType.dayAheadPricesPublished,
      )
      .map((e) => e.data)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(publications.map((p) => p.publishedAt)).toEqual([
      '2024-10-26T11:05:42Z',
      '2024-10-26T11:05:42Z',
    ]);
    expect(publications.map((p) => [p.biddingZone, p.currency, p.resolutionMinutes])).toEqual([
      ['DE-LU', 'EUR', 60],
      ['DE-LU', 'EUR', 60],
    ]);
    const [evening, day] = publications;
    expect(evening?.points).toEqual([
      { start: '2024-10-26T22:00:00Z', pricePerMWh: '78.12' },
      { start: '2024-10-26T23:00:00Z', pricePerMWh: '72.50' },
    ]);
    expect(day?.points).toHaveLength(22);
    // the repeated 02:00: summer time first, then winter time; 04:00 CET ("-") is absent
    expect(day?.points.slice(0, 4)).toEqual([
      { start: '2024-10-27T00:00:00Z', pricePerMWh: '61.00' },
      { start: '2024-10-27T01:00:00Z', pricePerMWh: '58.31' },
      { start: '2024-10-27T02:00:00Z', pricePerMWh: '55.02' },
      { start: '2024-10-27T04:00:00Z', pricePerMWh: '60.10' },
    ]);

    // when the same file is imported again
    const again = gridstream('prices', 'import', file);
    expect(again.code, again.stderr).toBe(0);
    const after = await marketRecords();
    // then the same two records are published again, byte for byte (key, value, headers)
    expect(after).toHaveLength(4);
    const bytes = (r: MarketRecord) => JSON.stringify([r.key, r.value, r.headers]);
    expect(after.map(bytes).sort()).toEqual([...records, ...records].map(bytes).sort());

    // and a --dry-run of a corrected file publishes nothing, showing a later publishedAt
    const dry = gridstream(
      'prices',
      'import',
      file,
      '--published-at',
      '2024-10-26T12:00:00Z',
      '--dry-run',
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('publishedAt 2024-10-26T12:00:00Z');
    expect(await marketRecords()).toHaveLength(4);
  });

  it("publishes Electricity Maps' carbon intensity keyed by zone", async () => {
    const result = gridstream(
      'carbon',
      'import',
      fixture('market-import-carbon-electricitymaps.csv'),
      '--published-at',
      '2025-04-01T00:00:00Z',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(
      'carbon import: 4 points in 2 publications for zone DE, 1 skipped missing values',
    );
    const carbon = (await marketRecords())
      .map((r) => r.event)
      .filter(
        (e): e is Extract<GridstreamEvent, { type: typeof EventType.carbonIntensityPublished }> =>
          e.type === EventType.carbonIntensityPublished,
      );
    expect(
      carbon.map((e) => [e.subject, e.tenant, e.data.points.map((p) => p.gramsPerKWh)]).sort(),
    ).toEqual([
      ['DE', 'public', ['366', '355.5']],
      ['DE', 'public', ['380.25', '371.9']],
    ]);
  });
});
