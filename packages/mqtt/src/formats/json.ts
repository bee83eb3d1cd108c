import secureJsonParse from 'secure-json-parse';
import type { DecodeReason } from './types.ts';

/** The largest payload decoded: a batch of 1,000 readings is about 150 KiB. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export type ParsedJson =
  | { readonly ok: true; readonly json: unknown }
  | { readonly ok: false; readonly reason: DecodeReason; readonly message: string };

// fatal: a payload that is not UTF-8 is refused, not read with U+FFFD in it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * A payload's JSON. Parsed as the API parses request bodies (secure-json-parse: a `__proto__` or
 * `constructor.prototype` key is refused), so no payload can reach an object's prototype
 * whatever later code does with it.
 */
export function parseJson(payload: Uint8Array): ParsedJson {
  if (payload.byteLength > MAX_PAYLOAD_BYTES)
    return {
      ok: false,
      reason: 'too-large',
      message: `${payload.byteLength} bytes, more than the ${MAX_PAYLOAD_BYTES} decoded`,
    };
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { ok: false, reason: 'not-json', message: 'the payload is not UTF-8' };
  }
  try {
    return {
      ok: true,
      json: secureJsonParse(text, { protoAction: 'error', constructorAction: 'error' }),
    };
  } catch (error) {
    return {
      ok: false,
      reason: 'not-json',
      message: `the payload is not JSON: ${(error as Error).message}`,
    };
  }
}

export type JsonObject = Readonly<Record<string, unknown>>;

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What a JSON value is, for messages: `a string`, `an array`, `null`, `nothing`. */
export function jsonKind(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}
