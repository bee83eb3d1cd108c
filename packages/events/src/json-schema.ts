import { z } from 'zod';
import { catalogue } from './catalogue.ts';
import type { LogicalTopic } from './catalogue.ts';
import { upcasters } from './upcasters.ts';

function payloadSchema(entry: {
  readonly schema: z.ZodType;
  readonly description: string;
  readonly topic: LogicalTopic;
}): Record<string, unknown> {
  return {
    ...z.toJSONSchema(entry.schema, { io: 'input', unrepresentable: 'any' }),
    description: entry.description,
    'x-topic': entry.topic,
  };
}

/**
 * JSON Schema (draft 2020-12) of every event payload, keyed by event type: the current versions,
 * and the superseded ones still accepted (`x-superseded-by` names the version they decode as).
 */
export function catalogueJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'gridstream event catalogue',
    description:
      'Payloads (CloudEvents `data`) of every gridstream event type. On Kafka the CloudEvents attributes travel as ce_* headers (binary mode). A type with x-superseded-by is an older version: still accepted, and decoded as the newer one.',
    $defs: Object.fromEntries([
      ...Object.entries(catalogue).map(([type, entry]) => [type, payloadSchema(entry)]),
      ...Object.entries(upcasters).map(([type, upcaster]) => [
        type,
        { ...payloadSchema(upcaster), 'x-superseded-by': upcaster.to },
      ]),
    ]),
  };
}
