import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { encodeEvent, EventType } from '@gridstream/events';
import {
  createKafka,
  createTopicsIfMissing,
  DeadLetterWriter,
  kafkaSettings,
  readTopicToEnd,
  RedriveHeader,
  topicMaxMessageBytes,
  topicNames,
} from '@gridstream/kafka';
import type { DeadLetter } from '@gridstream/kafka';
import { bearer, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { dlqCommand } from './dlq-cli.ts';
import { replayEvents } from './replay/replay.ts';

// `gridstream dlq` and GET /v1/admin/dead-letters on the real Kafka: letters written as the
// consumers write them, listed, shown and redriven by the operator, and each tenant's admin
// seeing its own.
const config = isolatedConfig();
const stopAfterAll = teardown(config);
const topics = topicNames(config.GS_TOPIC_PREFIX);
const kafka = createKafka(kafkaSettings(config, 'e2e-dlq'));
let api: RunningApi;
/** The energy processor's consumer group (processors/energy: energyProcessorGroupId). */
const energyGroup = `${config.GS_TOPIC_PREFIX}processor.energy`;

function letter(offset: number, tenant: string, value: string, reason: string): DeadLetter {
  const record = encodeEvent({
    id: `00000000-0000-7000-8000-${String(offset).padStart(12, '0')}`,
    type: EventType.readingReported,
    source: 'e2e',
    subject: 'meter-1',
    time: new Date().toISOString(),
    tenant,
    data: { deviceId: 'meter-1', powerW: 1, quality: 'good' },
  });
  return {
    message: {
      key: Buffer.from(record.key),
      value: Buffer.from(value),
      headers: record.headers,
      timestamp: String(Date.now()),
      attributes: 0,
      offset: String(offset),
    },
    topic: topics.readings,
    partition: 0,
    reason,
    stage: 'decode',
  };
}

async function run(...argv: string[]): Promise<{ lines: string[]; code: number }> {
  const lines: string[] = [];
  const code = await dlqCommand(config, argv, (line) => lines.push(line));
  return { lines, code };
}

beforeAll(async () => {
  await createTopicsIfMissing(kafka, topics, 3);
  // the original of the letter that is redriven below, where its producer put it
  const producer = kafka.producer();
  await producer.connect();
  const original = letter(0, 'acme', '{"deviceId":"meter-1","powerW":"much"}', '').message;
  await producer.send({
    topic: topics.readings,
    messages: [{ key: original.key, value: original.value, headers: original.headers ?? {} }],
  });
  await producer.disconnect();
  // given the energy processor's group has read the readings topic (offsets committed)
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({
      groupId: energyGroup,
      topic: topics.readings,
      partitions: [0, 1, 2].map((partition) => ({ partition, offset: '0' })),
    });
  } finally {
    await admin.disconnect();
  }
  // and letters of two tenants, as that group writes them
  const writer = new DeadLetterWriter(kafka, energyGroup, topics.dlq, () =>
    topicMaxMessageBytes(kafka, topics.dlq),
  );
  try {
    await writer.write([
      letter(10, 'acme', '{"deviceId":"meter-1","powerW":"much"}', 'invalid data: powerW'),
      letter(11, 'other', '{"deviceId":"meter-1"}', 'invalid data: no value'),
      letter(12, 'acme', '\u0000\u00ff binary', 'value is not JSON'),
    ]);
  } finally {
    await writer.close();
  }
  api = await startApi(config, { listen: false });
  stopAfterAll(() => api.close());
});

describe('gridstream dlq', () => {
  it('lists letters with filters, and shows one whole', async () => {
    const all = await run('list', '--since', '1h');
    expect(all.lines).toHaveLength(4);
    expect(all.lines[3]).toBe(`3 of 3 letters in ${topics.dlq} match (0 redriven)`);
    expect(all.lines[0]).toMatch(
      new RegExp(
        `^\\d+-\\d+  \\S+  ${topics.readings}/0@10  ${energyGroup}  decode  acme  ${EventType.readingReported}  invalid data: powerW$`,
      ),
    );
    const acme = await run('list', '--tenant', 'acme', '--reason', 'NOT JSON', '--json');
    expect(acme.lines).toHaveLength(1);
    const listed = JSON.parse(acme.lines[0] ?? '{}') as { id: string; value: unknown };
    expect(listed.value).toEqual({ base64: Buffer.from('\u0000\u00ff binary').toString('base64') });
    expect((await run('list', '--until', '1h')).lines).toEqual([
      `0 of 3 letters in ${topics.dlq} match (0 redriven)`,
    ]);
    const shown = await run('show', listed.id);
    expect(shown.code).toBe(0);
    expect(shown.lines).toEqual(
      expect.arrayContaining([
        `  source     ${topics.readings} partition 0 offset 12`,
        '  reason     value is not JSON',
        '  redrive    not redriven',
        `    ce_tenant: acme`,
      ]),
    );
    const missing = await run('show', '2-99999');
    expect(missing.code).toBe(1);
    await expect(run('list', '--stage', 'parse')).rejects.toThrow(/--stage is decode or process/);
    await expect(run('redrive')).rejects.toThrow(/name letters by id/);
  });

  it('redrives a letter once: a dry run writes nothing, a second redrive is refused', async () => {
    const [line] = (await run('list', '--reason', 'powerW')).lines;
    const id = line?.split('  ')[0] ?? '';
    const dry = await run('redrive', id, '--dry-run');
    expect(dry).toEqual({
      lines: [
        `${id}  would redrive to ${topics.readings}/0 for group ${energyGroup}`,
        '1 would redrive, 0 refused (dry run: nothing written)',
      ],
      code: 0,
    });
    // --group filters the letters on redrive as on list: another group's are not these
    expect(await run('redrive', '--group', `${energyGroup}.other`, '--dry-run')).toEqual({
      lines: ['0 would redrive, 0 refused (dry run: nothing written)'],
      code: 0,
    });
    expect((await run('redrive', '--group', energyGroup, '--dry-run')).lines.at(-1)).toBe(
      '3 would redrive, 0 refused (dry run: nothing written)',
    );
    // --to-group a group that does not read the topic (a projection's old build) is refused,
    // naming the group that does, with status 1; --force would put it back all the same
    const gone = `${config.GS_TOPIC_PREFIX}projection.devices.v1-20261205093000`;
    const toGone = await run('redrive', id, '--to-group', gone, '--dry-run');
    expect(toGone.code).toBe(1);
    expect(toGone.lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${id}  refused: consumer group ${gone.replaceAll('.', '\\.')} has no committed offsets on ${topics.readings.replaceAll('.', '\\.')} .*--to-group G \\(groups reading it now: [^)]*${energyGroup.replaceAll('.', '\\.')}[^)]*\\), or --force`,
        ),
      ),
      '0 would redrive, 1 refused (dry run: nothing written)',
    ]);
    expect((await run('redrive', id, '--to-group', gone, '--force', '--dry-run')).lines[0]).toBe(
      `${id}  would redrive to ${topics.readings}/0 for group ${gone}`,
    );
    await expect(run('redrive', id, '--to-group', gone, '--all-groups')).rejects.toThrow(
      /--to-group and --all-groups exclude each other/,
    );
    const copies = async () =>
      (await readTopicToEnd(kafka, topics.readings)).filter(
        (m) => m.headers?.[RedriveHeader.from] !== undefined,
      );
    expect(await copies()).toEqual([]);
    const done = await run('redrive', id, '--all-groups');
    expect(done.lines[0]).toBe(`${id}  redriven to ${topics.readings}/0 for every group`);
    expect(done.code).toBe(0);
    const [copy] = await copies();
    expect(copy?.value?.toString()).toBe('{"deviceId":"meter-1","powerW":"much"}');
    expect(copy?.headers?.[RedriveHeader.group]).toBeUndefined();
    // and a replay writes the event once: the copy is left out, the original is in the log
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk));
    const replayed = await replayEvents(config, {
      filter: { fromMs: Date.now() - 3_600_000, toMs: Date.now() + 60_000 },
      topics: ['readings'],
      format: 'ndjson',
      out,
    });
    expect(replayed.scanned).toBe(2);
    expect(Buffer.concat(chunks).toString().trim().split('\n')).toHaveLength(1);
    expect((await run('list', '--redriven')).lines[0]).toMatch(
      /\[redriven \S+ for every group by /,
    );
    // asked again, it is refused with why, and the status says so
    const again = await run('redrive', id);
    expect(again.lines[0]).toMatch(new RegExp(`^${id}  refused: already redriven at `));
    expect(again.lines.at(-1)).toBe('0 redriven, 1 refused');
    expect(again.code).toBe(1);
    expect(await copies()).toHaveLength(1);
  });
});

describe('GET /v1/admin/dead-letters', () => {
  it("shows an admin its tenant's letters only, newest first", async () => {
    const acme = await bearer(api, 'acme');
    const list = await api.app.inject({
      url: '/v1/admin/dead-letters?topic=readings',
      headers: { authorization: acme },
    });
    expect(list.statusCode, list.body).toBe(200);
    const body = list.json<{
      letters: { id: string; reason: string; tenant: string }[];
      matched: number;
    }>();
    expect(body.matched).toBe(2);
    expect(body.letters.map((l) => [l.tenant, l.reason])).toEqual([
      ['acme', 'value is not JSON'],
      ['acme', 'invalid data: powerW'],
    ]);
    const one = await api.app.inject({
      url: `/v1/admin/dead-letters/${body.letters[1]?.id ?? ''}`,
      headers: { authorization: acme },
    });
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toMatchObject({
      value: { text: '{"deviceId":"meter-1","powerW":"much"}' },
      redrive: { group: null },
    });
    // another tenant's admin does not see it, and a read key may not ask
    const other = await api.app.inject({
      url: `/v1/admin/dead-letters/${body.letters[1]?.id ?? ''}`,
      headers: { authorization: await bearer(api, 'other') },
    });
    expect(other.statusCode).toBe(404);
    // a letter the DLQ does not hold, on a partition it has or one it has not, is 404 too
    for (const id of ['0-999999', '99-0']) {
      const missing = await api.app.inject({
        url: `/v1/admin/dead-letters/${id}`,
        headers: { authorization: acme },
      });
      expect(missing.statusCode, id).toBe(404);
    }
    const reader = await api.app.inject({
      url: '/v1/admin/dead-letters',
      headers: { authorization: await bearer(api, 'acme', ['read']) },
    });
    expect(reader.statusCode).toBe(403);
    const bad = await api.app.inject({
      url: '/v1/admin/dead-letters?stage=parse',
      headers: { authorization: acme },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ issues: { path: string }[] }>().issues.map((i) => i.path)).toEqual(['stage']);
  });
});
