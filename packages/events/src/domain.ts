import { z } from 'zod';
import { KnownValid } from './known-valid.ts';

/** What a device is. Drives which readings and commands make sense for it. */
export const DeviceKind = z.enum([
  'smart_plug',
  'meter',
  'solar_inverter',
  'battery',
  'heat_pump',
  'ev_charger',
]);
export type DeviceKind = z.infer<typeof DeviceKind>;

/** Which side of the energy balance a device sits on. */
export const DeviceRole = z.enum(['consumer', 'producer', 'storage', 'grid']);
export type DeviceRole = z.infer<typeof DeviceRole>;

/**
 * Identifiers are chosen by producers, so they are bounded and restricted to characters
 * that are safe in Kafka keys, QuestDB symbols, URLs and MongoDB ids.
 */
export const EntityId = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
    'letters, digits and . _ : - only, starting alphanumeric',
  );

/** Zones found valid so far: constructing a formatter costs tens of µs, a rebuild asks often. */
const knownTimeZones = new KnownValid((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
});

/** An IANA time zone name that this runtime knows, e.g. Europe/Berlin. */
export const TimeZone = z.string().refine((zone) => knownTimeZones.test(zone), {
  message: 'an IANA time zone such as Europe/Berlin',
});

/** RFC 3339 timestamp with an explicit offset, normalised to a Date-compatible string. */
export const Timestamp = z.iso.datetime({ offset: true });
