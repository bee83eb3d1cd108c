import { z } from 'zod';
import { catalogue } from './catalogue.ts';

/** JSON Schema (draft 2020-12) of every event payload, keyed by event type. */
export function catalogueJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'gridstream event catalogue',
    description:
      'Payloads (CloudEvents `data`) of every gridstream event type. On Kafka the CloudEvents attributes travel as ce_* headers (binary mode).',
    $defs: Object.fromEntries(
      Object.entries(catalogue).map(([type, entry]) => [
        type,
        {
          ...z.toJSONSchema(entry.schema, { io: 'input', unrepresentable: 'any' }),
          description: entry.description,
          'x-topic': entry.topic,
        },
      ]),
    ),
  };
}
