import { CarbonZone, EventType, TimeZone } from '@gridstream/events';
import type {
  DeviceKind,
  DeviceRole,
  EventOf,
  GridstreamEvent,
  SiteLocation,
  TariffVersion,
} from '@gridstream/events';
import type { Refusal } from '@gridstream/commands';
import { judgeTariffVersion, withTariffVersion } from './decide-tariff.ts';
import type { TariffVersionRequest } from './decide-tariff.ts';

/** What the registry knows of a site. */
export interface SiteFacts {
  readonly siteId: string;
  readonly name: string;
  readonly timeZone: string;
  readonly location?: SiteLocation | undefined;
  /** The zone of the carbon-intensity series its import is counted against. */
  readonly carbonZone?: string | undefined;
  readonly status: 'open' | 'closed';
  /** Every tariff version published for it, by effectiveFrom (then publishedAt, id). */
  readonly tariffs?: readonly TariffVersion[] | undefined;
}

/** What the registry knows of a device. `unregistered`: it has reported, never been registered. */
export interface DeviceFacts {
  readonly deviceId: string;
  readonly status: 'active' | 'decommissioned' | 'unregistered';
  readonly siteId?: string | undefined;
  readonly kind?: DeviceKind | undefined;
  readonly role?: DeviceRole | undefined;
  readonly name?: string | undefined;
  readonly timeZone?: string | undefined;
  readonly ratedPowerW?: number | undefined;
  readonly counterWrapWh?: number | undefined;
  /** When it last moved to another site (RFC 3339): a move must not go back before it. */
  readonly movedAt?: string | undefined;
}

export interface DeviceRegistration {
  readonly deviceId: string;
  readonly siteId: string;
  readonly kind: DeviceKind;
  readonly role: DeviceRole;
  readonly name: string;
  readonly ratedPowerW?: number | undefined;
  readonly counterWrapWh?: number | undefined;
}

/** A change asked of the registry, shape-checked by the API or the CLI, not yet judged. */
export type RegistryCommand =
  | {
      readonly type: 'register-site';
      readonly siteId: string;
      readonly name: string;
      readonly timeZone: string;
      readonly location?: SiteLocation | undefined;
      readonly carbonZone?: string | undefined;
    }
  | {
      readonly type: 'update-site';
      readonly siteId: string;
      readonly name?: string | undefined;
      readonly location?: SiteLocation | null | undefined;
      /** `null` removes it. */
      readonly carbonZone?: string | null | undefined;
    }
  | {
      readonly type: 'publish-tariff';
      readonly siteId: string;
      readonly tariff: TariffVersionRequest;
    }
  | { readonly type: 'close-site'; readonly siteId: string; readonly reason?: string | undefined }
  | { readonly type: 'reopen-site'; readonly siteId: string; readonly reason?: string | undefined }
  | ({ readonly type: 'register-device' } & DeviceRegistration)
  | {
      readonly type: 'update-device';
      readonly deviceId: string;
      readonly name?: string | undefined;
      readonly role?: DeviceRole | undefined;
      readonly ratedPowerW?: number | undefined;
    }
  | {
      readonly type: 'decommission-device';
      readonly deviceId: string;
      readonly reason?: string | undefined;
    }
  | {
      readonly type: 'restore-device';
      readonly deviceId: string;
      readonly reason?: string | undefined;
    }
  | {
      readonly type: 'move-device';
      readonly deviceId: string;
      readonly toSiteId: string;
      /** The instant from which its energy goes to the new site (RFC 3339). */
      readonly effectiveAt: string;
    };

export type RegistryEvent = EventOf<
  | typeof EventType.siteRegistered
  | typeof EventType.siteUpdated
  | typeof EventType.siteClosed
  | typeof EventType.siteReopened
  | typeof EventType.siteTariffPublished
  | typeof EventType.deviceRegistered
  | typeof EventType.deviceUpdated
  | typeof EventType.deviceDecommissioned
  | typeof EventType.deviceRestored
  | typeof EventType.deviceMoved
>;

/** The facts a command is judged against: its site and its device, as far as they exist. */
export interface RegistryFacts {
  readonly site?: SiteFacts | undefined;
  readonly device?: DeviceFacts | undefined;
  /** The devices in service on the site (for closing it). */
  readonly activeDevicesOnSite?: number | undefined;
}

/** Who asks, for whom, when, and the id the event would get: everything impure, passed in. */
export interface DecideContext {
  readonly tenant: string;
  readonly actor: string;
  readonly nowMs: number;
  readonly eventId: string;
  /** How far back a move may take effect (its energy is re-totalled from then on). */
  readonly maxMovePastMs?: number | undefined;
}

/** A month: how far back a move may take effect unless the deployment says otherwise. */
export const DEFAULT_MAX_MOVE_PAST_MS = 31 * 86_400_000;
/** A move may name an instant this far ahead of the clock (clocks differ), no further. */
const MOVE_CLOCK_SKEW_MS = 5 * 60_000;

export type RegistryDecision =
  | { readonly kind: 'changed'; readonly event: RegistryEvent }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'refused'; readonly refusal: Refusal };

const unchanged: RegistryDecision = { kind: 'unchanged' };
const refuse = (refusal: Refusal): RegistryDecision => ({ kind: 'refused', refusal });

const siteNotFound = (siteId: string, path = 'siteId') =>
  refuse({
    code: 'NOT_FOUND',
    reason: 'site-not-found',
    message: `no site ${siteId}`,
    issues: [{ path, message: 'no such site' }],
  });
const deviceNotFound = (deviceId: string) =>
  refuse({ code: 'NOT_FOUND', reason: 'device-not-found', message: `no device ${deviceId}` });

const invalidCarbonZone = (zone: string) =>
  refuse({
    code: 'VALIDATION',
    reason: 'invalid-carbon-zone',
    message: `not a zone: ${JSON.stringify(zone)}`,
    issues: [{ path: 'carbonZone', message: 'letters, digits and . _ : - only, e.g. DE' }],
  });

/** The command's subject: the site or the device it is about. */
export function subjectOf(command: RegistryCommand): { site?: string; device?: string } {
  switch (command.type) {
    case 'register-site':
    case 'update-site':
    case 'close-site':
    case 'reopen-site':
    case 'publish-tariff':
      return { site: command.siteId };
    case 'register-device':
      return { site: command.siteId, device: command.deviceId };
    case 'move-device':
      return { site: command.toSiteId, device: command.deviceId };
    default:
      return { device: command.deviceId };
  }
}

function envelope<E extends RegistryEvent>(
  type: E['type'],
  subject: string,
  context: DecideContext,
  data: E['data'],
): RegistryDecision {
  return {
    kind: 'changed',
    event: {
      id: context.eventId,
      type,
      source: '/v1/registry',
      subject,
      time: new Date(context.nowMs).toISOString(),
      tenant: context.tenant,
      data,
    } as RegistryEvent,
  };
}

/** JSON-equal, for comparing a registration with the one on record. */
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function registrationOf(device: DeviceFacts): Partial<DeviceRegistration> {
  const { deviceId, siteId, kind, role, name, ratedPowerW, counterWrapWh } = device;
  return { deviceId, siteId, kind, role, name, ratedPowerW, counterWrapWh };
}

/** The attributes of a registration that differ from the one on record. */
function differences(device: DeviceFacts, command: DeviceRegistration): string[] {
  const recorded = registrationOf(device);
  return (Object.keys(recorded) as (keyof DeviceRegistration)[]).filter(
    (key) => !same(recorded[key], command[key]),
  );
}

/**
 * Judges a registry command against the facts (pure): a site must exist to be changed or to
 * take a device, a registration again with the same attributes changes nothing while one with
 * other attributes is a conflict, a closed site takes no devices, a decommissioned device can
 * only be restored. Accepted, it is one event that records the actor.
 */
export function decideRegistry(
  command: RegistryCommand,
  facts: RegistryFacts,
  context: DecideContext,
): RegistryDecision {
  const { site, device } = facts;
  const actor = context.actor;
  switch (command.type) {
    case 'register-site': {
      if (!TimeZone.safeParse(command.timeZone).success)
        return refuse({
          code: 'VALIDATION',
          reason: 'unknown-time-zone',
          message: `unknown time zone ${JSON.stringify(command.timeZone)}`,
          issues: [{ path: 'timeZone', message: 'an IANA time zone, e.g. Europe/Berlin' }],
        });
      if (command.carbonZone !== undefined && !CarbonZone.safeParse(command.carbonZone).success)
        return invalidCarbonZone(command.carbonZone);
      if (site !== undefined) {
        const clashes = (['name', 'timeZone', 'location', 'carbonZone'] as const).filter(
          (key) => !same(site[key], command[key]),
        );
        if (clashes.length === 0) return unchanged;
        return refuse({
          code: 'CONFLICT',
          reason: 'site-id-taken',
          message: `site ${command.siteId} exists with another ${clashes.join(', ')}`,
          issues: clashes.map((path) => ({ path, message: 'differs from the registered site' })),
        });
      }
      return envelope(EventType.siteRegistered, command.siteId, context, {
        siteId: command.siteId,
        name: command.name,
        timeZone: command.timeZone,
        ...(command.location === undefined ? {} : { location: command.location }),
        ...(command.carbonZone === undefined ? {} : { carbonZone: command.carbonZone }),
        actor,
      });
    }
    case 'update-site': {
      if (site === undefined) return siteNotFound(command.siteId, 'id');
      if (
        typeof command.carbonZone === 'string' &&
        !CarbonZone.safeParse(command.carbonZone).success
      )
        return invalidCarbonZone(command.carbonZone);
      const rename = command.name !== undefined && command.name !== site.name;
      const relocate = command.location !== undefined && !same(command.location, site.location);
      const rezone =
        command.carbonZone !== undefined && (command.carbonZone ?? undefined) !== site.carbonZone;
      if (!rename && !relocate && !rezone) return unchanged;
      return envelope(EventType.siteUpdated, command.siteId, context, {
        siteId: command.siteId,
        ...(rename ? { name: command.name } : {}),
        ...(relocate ? { location: command.location } : {}),
        ...(rezone ? { carbonZone: command.carbonZone } : {}),
        actor,
      });
    }
    case 'publish-tariff':
      return decideTariff(command, site, context);
    case 'close-site': {
      if (site === undefined) return siteNotFound(command.siteId, 'id');
      if (site.status === 'closed') return unchanged;
      const active = facts.activeDevicesOnSite ?? 0;
      if (active > 0)
        return refuse({
          code: 'CONFLICT',
          reason: 'site-has-active-devices',
          message: `site ${command.siteId} has ${active} device(s) in service: decommission them first`,
        });
      return envelope(EventType.siteClosed, command.siteId, context, {
        siteId: command.siteId,
        ...(command.reason === undefined ? {} : { reason: command.reason }),
        actor,
      });
    }
    case 'reopen-site': {
      if (site === undefined) return siteNotFound(command.siteId, 'id');
      if (site.status === 'open') return unchanged;
      return envelope(EventType.siteReopened, command.siteId, context, {
        siteId: command.siteId,
        ...(command.reason === undefined ? {} : { reason: command.reason }),
        actor,
      });
    }
    case 'register-device': {
      if (site === undefined) return siteNotFound(command.siteId);
      if (device !== undefined && device.status !== 'unregistered') {
        const clashes = differences(device, command);
        if (clashes.length > 0)
          return refuse({
            code: 'CONFLICT',
            reason: 'device-id-taken',
            message: `device ${command.deviceId} is registered with another ${clashes.join(', ')}`,
            issues: clashes.map((path) => ({
              path,
              message: 'differs from the registered device',
            })),
          });
        // the same registration again, whatever the device's status since: nothing to do
        return unchanged;
      }
      if (site.status === 'closed')
        return refuse({
          code: 'CONFLICT',
          reason: 'site-closed',
          message: `site ${command.siteId} is closed; it takes no devices`,
          issues: [{ path: 'siteId', message: 'a closed site' }],
        });
      return envelope(EventType.deviceRegistered, command.deviceId, context, {
        deviceId: command.deviceId,
        siteId: command.siteId,
        kind: command.kind,
        role: command.role,
        name: command.name,
        timeZone: site.timeZone,
        ...(command.ratedPowerW === undefined && command.counterWrapWh === undefined
          ? {}
          : {
              nameplate: {
                ...(command.ratedPowerW === undefined ? {} : { ratedPowerW: command.ratedPowerW }),
                ...(command.counterWrapWh === undefined
                  ? {}
                  : { counterWrapWh: command.counterWrapWh }),
              },
            }),
        actor,
      } satisfies EventOf<typeof EventType.deviceRegistered>['data']);
    }
    case 'update-device': {
      if (device === undefined || device.status === 'unregistered')
        return deviceNotFound(command.deviceId);
      const changes = {
        ...(command.name !== undefined && command.name !== device.name
          ? { name: command.name }
          : {}),
        ...(command.role !== undefined && command.role !== device.role
          ? { role: command.role }
          : {}),
        ...(command.ratedPowerW !== undefined && command.ratedPowerW !== device.ratedPowerW
          ? { ratedPowerW: command.ratedPowerW }
          : {}),
      };
      if (Object.keys(changes).length === 0) return unchanged;
      return envelope(EventType.deviceUpdated, command.deviceId, context, {
        deviceId: command.deviceId,
        ...changes,
        actor,
      });
    }
    case 'decommission-device': {
      if (device === undefined || device.status === 'unregistered')
        return deviceNotFound(command.deviceId);
      if (device.status === 'decommissioned') return unchanged;
      return envelope(EventType.deviceDecommissioned, command.deviceId, context, {
        deviceId: command.deviceId,
        ...(command.reason === undefined ? {} : { reason: command.reason }),
        actor,
      });
    }
    case 'move-device': {
      if (device === undefined || device.status === 'unregistered')
        return deviceNotFound(command.deviceId);
      if (device.status === 'decommissioned')
        return refuse({
          code: 'CONFLICT',
          reason: 'device-decommissioned',
          message: `device ${command.deviceId} is decommissioned; it cannot be moved`,
        });
      if (site === undefined) return siteNotFound(command.toSiteId, 'toSiteId');
      const effectiveMs = Date.parse(command.effectiveAt);
      const maxPastMs = context.maxMovePastMs ?? DEFAULT_MAX_MOVE_PAST_MS;
      if (
        !Number.isFinite(effectiveMs) ||
        effectiveMs > context.nowMs + MOVE_CLOCK_SKEW_MS ||
        effectiveMs < context.nowMs - maxPastMs
      )
        return refuse({
          code: 'VALIDATION',
          reason: 'invalid-effective-time',
          message: `a move takes effect now or in the last ${Math.round(maxPastMs / 3_600_000)} hours`,
          issues: [
            { path: 'effectiveAt', message: 'not in the future, nor further back than allowed' },
          ],
        });
      if (device.siteId === command.toSiteId) return unchanged;
      if (site.status === 'closed')
        return refuse({
          code: 'CONFLICT',
          reason: 'site-closed',
          message: `site ${command.toSiteId} is closed; it takes no devices`,
          issues: [{ path: 'toSiteId', message: 'a closed site' }],
        });
      if (device.movedAt !== undefined && effectiveMs <= Date.parse(device.movedAt))
        return refuse({
          code: 'CONFLICT',
          reason: 'move-out-of-order',
          message: `device ${command.deviceId} last moved at ${device.movedAt}: a move takes effect after it`,
          issues: [{ path: 'effectiveAt', message: `after ${device.movedAt}` }],
        });
      return envelope(EventType.deviceMoved, command.deviceId, context, {
        deviceId: command.deviceId,
        fromSiteId: device.siteId ?? '',
        toSiteId: command.toSiteId,
        effectiveAt: new Date(effectiveMs).toISOString(),
        timeZone: site.timeZone,
        actor,
      });
    }
    case 'restore-device': {
      if (device === undefined || device.status === 'unregistered')
        return deviceNotFound(command.deviceId);
      if (device.status === 'active') return unchanged;
      if (site?.status === 'closed')
        return refuse({
          code: 'CONFLICT',
          reason: 'site-closed',
          message: `device ${command.deviceId} is on closed site ${site.siteId}: reopen it first`,
        });
      return envelope(EventType.deviceRestored, command.deviceId, context, {
        deviceId: command.deviceId,
        ...(command.reason === undefined ? {} : { reason: command.reason }),
        actor,
      });
    }
  }
}

/** A tariff version published for a site: the site must exist; judgeTariffVersion says the rest. */
function decideTariff(
  command: Extract<RegistryCommand, { type: 'publish-tariff' }>,
  site: SiteFacts | undefined,
  context: DecideContext,
): RegistryDecision {
  if (site === undefined) return siteNotFound(command.siteId, 'id');
  const judged = judgeTariffVersion(site, command.tariff);
  if (judged.kind === 'refused') return refuse(judged.refusal);
  if (judged.kind === 'unchanged') return unchanged;
  const { publishedAt, ...tariff } = command.tariff;
  return envelope(EventType.siteTariffPublished, command.siteId, context, {
    siteId: command.siteId,
    tariff: { ...tariff, publishedAt: publishedAt ?? new Date(context.nowMs).toISOString() },
    actor: context.actor,
  });
}

/** The write side's facts after an event (pure): what the next command is judged against. */
export function evolveSiteFacts(
  site: SiteFacts | undefined,
  event: GridstreamEvent,
): SiteFacts | undefined {
  switch (event.type) {
    case EventType.siteRegistered: {
      const { siteId, name, timeZone, location, carbonZone } = event.data;
      return {
        siteId,
        name,
        timeZone,
        ...(location === undefined ? {} : { location }),
        ...(carbonZone === undefined ? {} : { carbonZone }),
        status: 'open',
      };
    }
    case EventType.siteUpdated: {
      if (site === undefined) return site;
      const { name, location, carbonZone } = event.data;
      const { location: _old, carbonZone: _oldZone, ...rest } = site;
      const nextLocation = location === undefined ? site.location : (location ?? undefined);
      const nextZone = carbonZone === undefined ? site.carbonZone : (carbonZone ?? undefined);
      return {
        ...rest,
        ...(name === undefined ? {} : { name }),
        ...(nextLocation === undefined ? {} : { location: nextLocation }),
        ...(nextZone === undefined ? {} : { carbonZone: nextZone }),
      };
    }
    case EventType.siteTariffPublished: {
      if (site === undefined) return site;
      const tariffs = withTariffVersion(site.tariffs ?? [], event.data.tariff);
      return tariffs === site.tariffs ? site : { ...site, tariffs };
    }
    case EventType.siteClosed:
      return site === undefined ? site : { ...site, status: 'closed' };
    case EventType.siteReopened:
      return site === undefined ? site : { ...site, status: 'open' };
    default:
      return site;
  }
}

export function evolveDeviceFacts(
  device: DeviceFacts | undefined,
  event: GridstreamEvent,
): DeviceFacts | undefined {
  switch (event.type) {
    case EventType.deviceRegistered: {
      const { actor: _actor, nameplate, ...registration } = event.data;
      return {
        ...registration,
        ...nameplate,
        status: device?.status === 'decommissioned' ? 'decommissioned' : 'active',
      };
    }
    case EventType.deviceUpdated: {
      if (device === undefined) return device;
      const { actor: _actor, deviceId: _id, ...changes } = event.data;
      return { ...device, ...changes };
    }
    case EventType.deviceDecommissioned:
      return device === undefined ? device : { ...device, status: 'decommissioned' };
    case EventType.deviceRestored:
      return device?.status === 'decommissioned' ? { ...device, status: 'active' } : device;
    case EventType.deviceMoved: {
      if (device === undefined) return device;
      const { toSiteId, timeZone, effectiveAt } = event.data;
      return { ...device, siteId: toSiteId, timeZone, movedAt: effectiveAt };
    }
    default:
      return device;
  }
}
