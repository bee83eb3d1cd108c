import { routeTopic } from './topics.ts';
import type { TopicRoute } from './types.ts';

// Helpers of the formats' unit tests only (no .spec suffix: a module they share).

/** A payload as a device sends it: JSON of a value, or a string's bytes as they are. */
export const payload = (value: unknown): Uint8Array =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

/** The route of a topic the test knows to be routable. */
export function route<F extends TopicRoute['format']>(
  topic: string,
  format: F,
): Extract<TopicRoute, { format: F }> {
  const found = routeTopic(topic);
  if (found?.format !== format) throw new Error(`${topic} is not a ${format} topic`);
  return found as Extract<TopicRoute, { format: F }>;
}

/** 2026-12-05T12:00:00Z: when the bridge received the message, in every test unless said. */
export const RECEIVED_AT_MS = Date.UTC(2026, 11, 5, 12, 0, 0);
export const RECEIVED_AT = '2026-12-05T12:00:00.000Z';
