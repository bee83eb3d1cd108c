import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import {
  bytesForHumans,
  letterOf,
  matchesLetter,
  redrivenForAnotherGroup,
} from './dead-letters.ts';
import { deadLetterRecord } from './dlq.ts';

const original: KafkaMessage = {
  key: Buffer.from('plug-1'),
  value: Buffer.from('{"deviceId":"plug-1"}'),
  timestamp: String(Date.UTC(2026, 11, 5, 10)),
  attributes: 0,
  offset: '42',
  headers: { ce_tenant: 'acme', ce_type: 'gridstream.reading.reported.v1', traceparent: 'tp' },
};

/** A letter as the DLQ topic holds it: what DeadLetterWriter writes, read back (partition 2, offset 7). */
function stored(maxBytes = 1_000_000, value = original.value) {
  const record = deadLetterRecord(
    {
      message: { ...original, value },
      topic: 'gs.readings',
      partition: 3,
      reason: 'invalid data',
      stage: 'process',
    },
    'gs.energy',
    new Date(Date.UTC(2026, 11, 5, 11)),
    maxBytes,
  );
  const message: KafkaMessage = {
    key: record.key,
    value: record.value,
    headers: record.headers,
    timestamp: String(Date.UTC(2026, 11, 5, 11)),
    attributes: 0,
    offset: '7',
  };
  const letter = letterOf(message, 2);
  if (letter === undefined) throw new Error('not read as a letter');
  return letter;
}

describe('a letter read back from the DLQ topic', () => {
  it("keeps the original's key, value and headers apart from the headers that say why", () => {
    const letter = stored();
    expect(letter).toMatchObject({
      id: '2-7',
      source: { topic: 'gs.readings', partition: 3, offset: '42' },
      consumerGroup: 'gs.energy',
      stage: 'process',
      reason: 'invalid data',
      tenant: 'acme',
      type: 'gridstream.reading.reported.v1',
      truncated: [],
    });
    expect(Object.keys(letter.headers).sort()).toEqual(['ce_tenant', 'ce_type', 'traceparent']);
    expect(letter.value?.toString()).toBe('{"deviceId":"plug-1"}');
  });

  it('says what was cut from a letter that had to fit, with the original size and hash', () => {
    const letter = stored(1_300, Buffer.from('x'.repeat(5_000)));
    expect(letter.truncated).toEqual(['value']);
    expect(letter.value?.length).toBeLessThan(1_300);
    expect(letter.originalSize).toBe(5_000);
    expect(letter.originalSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is not a letter when it is a redrive record', () => {
    const marker = { ...original, headers: { 'x-dlq-redrive-of': '2-7' } };
    expect(letterOf(marker, 2)).toBeUndefined();
  });

  it('matches a filter only when every field given holds', () => {
    const letter = stored();
    expect(matchesLetter(letter, {})).toBe(true);
    expect(matchesLetter(letter, { sourceTopic: 'readings', tenant: 'acme' })).toBe(true);
    expect(matchesLetter(letter, { sourceTopic: 'gs.readings', reason: 'INVALID' })).toBe(true);
    expect(matchesLetter(letter, { sourceTopic: 'devices' })).toBe(false);
    expect(matchesLetter(letter, { consumerGroup: 'gs.alerts' })).toBe(false);
    expect(matchesLetter(letter, { stage: 'decode' })).toBe(false);
    expect(matchesLetter(letter, { ids: new Set(['2-8']) })).toBe(false);
    const at = Date.UTC(2026, 11, 5, 11);
    expect(matchesLetter(letter, { since: new Date(at), until: new Date(at + 1) })).toBe(true);
    expect(matchesLetter(letter, { until: new Date(at) })).toBe(false);
    expect(matchesLetter(letter, { since: new Date(at + 1) })).toBe(false);
  });
});

describe('a redriven record', () => {
  it('is skipped by every group but the one it was redriven for', () => {
    const copy = { headers: { 'x-redrive-group': Buffer.from('gs.energy') } };
    expect(redrivenForAnotherGroup(copy, 'gs.energy')).toBe(false);
    expect(redrivenForAnotherGroup(copy, 'gs.projection.devices')).toBe(true);
    expect(redrivenForAnotherGroup({ headers: {} }, 'gs.energy')).toBe(false);
  });
});

describe('bytes for humans', () => {
  it('are text when they are UTF-8 without control characters, else base64', () => {
    expect(bytesForHumans(Buffer.from('{"a": "é"}\n'))).toEqual({ text: '{"a": "é"}\n' });
    expect(bytesForHumans(Buffer.from([0xff, 0x00]))).toEqual({ base64: '/wA=' });
    expect(bytesForHumans(Buffer.from('a\u0000b'))).toEqual({ base64: 'YQBi' });
    expect(bytesForHumans(null)).toBeNull();
  });
});
