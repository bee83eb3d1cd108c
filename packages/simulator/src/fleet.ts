import type {
  DeviceKind,
  DeviceRegisteredV1,
  DeviceRole,
  ReadingReportedV1,
} from '@gridstream/events';

/** A deterministic pseudo-random source (mulberry32), so a seeded fleet behaves the same every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimulatedDevice {
  readonly registration: DeviceRegisteredV1;
  /** Cumulative counters the device keeps between readings. */
  importWh: number;
  exportWh: number;
  socPct: number;
  /** A smart plug overloaded (a kettle on an extension lead) until then: above its rating. */
  overloadUntilMs?: number;
  /** Commanded off (a plug or heat pump switched off, a charger paused): it draws nothing. */
  off?: boolean;
  /** Commanded power limit: the device's power stays within it, either way. */
  powerLimitW?: number;
}

/** A plug's chance per reading of an overload, and how long one lasts: about every 5 min at 1 s. */
export const PLUG_OVERLOAD_CHANCE = 1 / 300;
export const PLUG_OVERLOAD_MS = 20_000;
/** The power of an overloaded plug, as a share of its rating: what raises a power alert. */
export const PLUG_OVERLOAD_SHARE = 1.15;

const SITE_TEMPLATE: readonly { kind: DeviceKind; role: DeviceRole; ratedPowerW: number }[] = [
  { kind: 'meter', role: 'grid', ratedPowerW: 17_000 },
  { kind: 'solar_inverter', role: 'producer', ratedPowerW: 8_000 },
  { kind: 'battery', role: 'storage', ratedPowerW: 5_000 },
  { kind: 'heat_pump', role: 'consumer', ratedPowerW: 3_000 },
  { kind: 'ev_charger', role: 'consumer', ratedPowerW: 11_000 },
  { kind: 'smart_plug', role: 'consumer', ratedPowerW: 2_300 },
];

const TIME_ZONES = ['Europe/Berlin', 'Europe/London', 'America/New_York', 'Australia/Sydney'];

/** Counters are as if every device had run at its rated power since then: see createFleet. */
const COUNTER_EPOCH_MS = Date.UTC(2026, 0, 1);

/**
 * `siteCount` sites, each with a meter, solar, battery, heat pump, EV charger and a plug.
 * Counters start at rated power times the hours since COUNTER_EPOCH_MS before `startedAt`: no
 * device draws more than its rated power, so a fleet restarted later (same seed, same device
 * ids) starts above any counter its previous run reached, and a restart never looks like a
 * meter reset.
 */
export function createFleet(
  siteCount: number,
  random: () => number,
  startedAt: Date = new Date(COUNTER_EPOCH_MS),
): SimulatedDevice[] {
  const hoursSinceEpoch = Math.max(0, startedAt.getTime() - COUNTER_EPOCH_MS) / 3_600_000;
  const devices: SimulatedDevice[] = [];
  for (let s = 1; s <= siteCount; s++) {
    const siteId = `site-${String(s).padStart(3, '0')}`;
    const timeZone = TIME_ZONES[(s - 1) % TIME_ZONES.length] ?? 'UTC';
    for (const template of SITE_TEMPLATE) {
      devices.push({
        registration: {
          deviceId: `${siteId}-${template.kind.replace('_', '-')}`,
          siteId,
          kind: template.kind,
          role: template.role,
          name: `${template.kind.replace('_', ' ')} at ${siteId}`,
          timeZone,
          ratedPowerW: template.ratedPowerW,
        },
        importWh: Math.round(random() * 1_000_000 + template.ratedPowerW * hoursSinceEpoch),
        exportWh: Math.round(random() * 100_000 + template.ratedPowerW * hoursSinceEpoch),
        socPct: 20 + random() * 60,
      });
    }
  }
  return devices;
}

function localHour(time: Date, timeZone: string): number {
  const hour = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: 'numeric',
    hourCycle: 'h23',
  }).format(time);
  return Number(hour) + time.getUTCMinutes() / 60;
}

/** Daylight as a bell between 6:00 and 20:00 local time, 0 at night. */
function solarShare(hour: number): number {
  return hour < 6 || hour > 20 ? 0 : Math.sin(((hour - 6) / 14) * Math.PI);
}

/**
 * The device's next reading at `time`, `elapsedMs` after its previous one. Counters advance by
 * the energy of the interval, so the readings are physically consistent.
 */
export function nextReading(
  device: SimulatedDevice,
  time: Date,
  elapsedMs: number,
  random: () => number,
): ReadingReportedV1 {
  const { deviceId, kind, ratedPowerW = 1000, timeZone } = device.registration;
  const hours = elapsedMs / 3_600_000;
  const jitter = () => 0.9 + random() * 0.2;
  const base = { deviceId, quality: 'good' as const };
  // A device commanded off draws nothing, and its counters stand still.
  if (device.off === true) return { ...base, powerW: 0, importWh: Math.round(device.importWh) };
  const limitW = device.powerLimitW ?? Number.POSITIVE_INFINITY;
  const cap = (powerW: number) => Math.sign(powerW) * Math.min(Math.abs(powerW), limitW);
  switch (kind) {
    case 'solar_inverter': {
      // Production flows out of the device: negative power (docs/energy.md, sign convention).
      // An inverter clips at its rating: the jitter never takes it above (it did, and a demo
      // fleet raised a power alert every few seconds around noon).
      const producedW = Math.round(
        cap(Math.min(ratedPowerW, ratedPowerW * solarShare(localHour(time, timeZone)) * jitter())),
      );
      device.exportWh += producedW * hours;
      return {
        ...base,
        powerW: producedW === 0 ? 0 : -producedW,
        exportWh: Math.round(device.exportWh),
      };
    }
    case 'battery': {
      const charging = solarShare(localHour(time, timeZone)) > 0.3;
      const powerW = Math.round(cap((charging ? 1 : -1) * ratedPowerW * 0.4 * jitter()));
      device.socPct = Math.min(100, Math.max(0, device.socPct + (powerW * hours) / 100));
      if (powerW > 0) device.importWh += powerW * hours;
      else device.exportWh -= powerW * hours;
      return {
        ...base,
        powerW,
        socPct: Math.round(device.socPct * 10) / 10,
        importWh: Math.round(device.importWh),
        exportWh: Math.round(device.exportWh),
      };
    }
    case 'meter': {
      const netW = Math.round((random() - 0.4) * 4000);
      if (netW > 0) device.importWh += netW * hours;
      else device.exportWh -= netW * hours;
      return {
        ...base,
        powerW: netW,
        voltageV: Math.round((228 + random() * 6) * 10) / 10,
        importWh: Math.round(device.importWh),
        exportWh: Math.round(device.exportWh),
      };
    }
    case 'smart_plug': {
      // Now and then overloaded for a short while, so a demo fleet raises power alerts. Far
      // below its rating on average, so counters stay under the bound createFleet relies on.
      const nowMs = time.getTime();
      if ((device.overloadUntilMs ?? 0) <= nowMs && random() < PLUG_OVERLOAD_CHANCE)
        device.overloadUntilMs = nowMs + PLUG_OVERLOAD_MS;
      if ((device.overloadUntilMs ?? 0) > nowMs) {
        const powerW = Math.round(ratedPowerW * PLUG_OVERLOAD_SHARE);
        device.importWh += powerW * hours;
        return { ...base, powerW, importWh: Math.round(device.importWh) };
      }
      const on = random() < 0.7;
      const powerW = on ? Math.round(ratedPowerW * (0.3 + 0.7 * random())) : 0;
      device.importWh += powerW * hours;
      return { ...base, powerW, importWh: Math.round(device.importWh) };
    }
    case 'heat_pump':
    case 'ev_charger': {
      const on = random() < (kind === 'ev_charger' ? 0.3 : 0.7);
      const powerW = on ? Math.round(cap(ratedPowerW * (0.3 + 0.7 * random()))) : 0;
      device.importWh += powerW * hours;
      return { ...base, powerW, importWh: Math.round(device.importWh) };
    }
  }
}

/** What a simulated site pays, and the grid zone its carbon is counted in, by its time zone. */
export const DEMO_MARKETS: Readonly<
  Record<
    string,
    {
      currency: string;
      carbonZone: string;
      /** The demo's grid carbon intensity at night, gCO2e/kWh (made up, of the zone's order). */
      carbonBase: number;
      day: string;
      night: string;
      feedIn: string;
      fee: string;
      vatRate: string;
    }
  >
> = {
  'Europe/Berlin': {
    currency: 'EUR',
    carbonZone: 'DE',
    carbonBase: 420,
    day: '0.34',
    night: '0.26',
    feedIn: '0.0786',
    fee: '0.45',
    vatRate: '0.19',
  },
  'Europe/London': {
    currency: 'GBP',
    carbonZone: 'GB',
    carbonBase: 190,
    day: '0.2703',
    night: '0.2703',
    feedIn: '0.15',
    fee: '0.5122',
    vatRate: '0.05',
  },
  'America/New_York': {
    currency: 'USD',
    carbonZone: 'US-NY-NYIS',
    carbonBase: 260,
    day: '0.29',
    night: '0.21',
    feedIn: '0.08',
    fee: '0.60',
    vatRate: '0',
  },
  'Australia/Sydney': {
    currency: 'AUD',
    carbonZone: 'AU-NSW',
    carbonBase: 640,
    day: '0.38',
    night: '0.22',
    feedIn: '0.05',
    fee: '1.10',
    vatRate: '0.10',
  },
};

/**
 * A demo tariff for a simulated site (made-up prices of the order households pay, not anyone's
 * real tariff): time of use, night 00:00-07:00 cheaper every day, from 1 January 2026, with a
 * fixed feed-in price; and the site's carbon zone. Undefined for a zone without a demo market.
 */
export function demoTariff(
  timeZone: string,
): { readonly carbonZone: string; readonly version: Record<string, unknown> } | undefined {
  const market = DEMO_MARKETS[timeZone];
  if (market === undefined) return undefined;
  const everyDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  return {
    carbonZone: market.carbonZone,
    version: {
      id: `demo-${market.currency.toLowerCase()}-2026`,
      effectiveFrom: '2026-01-01T00:00:00Z',
      publishedAt: '2025-12-01T00:00:00Z',
      currency: market.currency,
      vatRate: market.vatRate,
      dailyFee: market.fee,
      importPrice: {
        kind: 'time_of_use',
        seasons: [
          {
            name: 'all year',
            from: '01-01',
            to: '12-31',
            periods: [
              {
                name: 'night',
                weekdays: everyDay,
                from: '00:00',
                to: '07:00',
                pricePerKWh: market.night,
              },
              {
                name: 'day',
                weekdays: everyDay,
                from: '07:00',
                to: '24:00',
                pricePerKWh: market.day,
              },
            ],
          },
        ],
      },
      exportPrice: { kind: 'fixed', pricePerKWh: market.feedIn },
    },
  };
}
