import { createFleet, demoTariff, nextReading, seededRandom } from './fleet.ts';
import type { SimulatedDevice } from './fleet.ts';

export interface FleetOptions {
  readonly apiUrl: string;
  readonly tenant: string;
  /**
   * A key of that tenant with the ingest scope (the fleet posts its readings with it) and the
   * manage scope (it registers its sites and devices through the API, as an installer would).
   */
  readonly apiKey: string;
  readonly sites: number;
  readonly intervalMs: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

export interface RunningFleet {
  readonly devices: readonly SimulatedDevice[];
  stop(): Promise<void>;
}

interface BatchAnswer {
  readonly registered: number;
  readonly unchanged: number;
  readonly refused: number;
  readonly results: readonly {
    index: number;
    deviceId?: string;
    outcome: string;
    error?: { reason: string; message: string };
  }[];
}

/**
 * Registers the fleet through the API: each site (POST /v1/sites), then its devices in one
 * batch (POST /v1/devices/batch). A fleet started again registers the same again, which
 * changes nothing; anything refused is logged and the rest goes on.
 */
async function registerFleet(
  options: FleetOptions,
  devices: readonly SimulatedDevice[],
): Promise<void> {
  const send = async (method: 'POST' | 'PATCH', path: string, body: unknown) => {
    const response = await fetch(`${options.apiUrl}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${options.apiKey}`,
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 300)
      throw new Error(`${path}: the API answered ${response.status}: ${text}`);
    return JSON.parse(text) as unknown;
  };
  const post = (path: string, body: unknown) => send('POST', path, body);
  const sites = new Map<string, string>();
  for (const { registration } of devices) sites.set(registration.siteId, registration.timeZone);
  for (const [siteId, timeZone] of sites) {
    const market = demoTariff(timeZone);
    try {
      await post('/v1/sites', { siteId, name: `Simulated ${siteId}`, timeZone });
    } catch (error) {
      options.log(`simulator: site ${siteId} not registered: ${(error as Error).message}`);
    }
    if (market === undefined) continue;
    try {
      // A change, not part of the registration: a site registered before it had a carbon zone
      // would refuse a registration with one (409); the same zone again is answered unchanged,
      // and so is the same tariff version: a restarted simulator is harmless.
      await send('PATCH', `/v1/sites/${siteId}`, { carbonZone: market.carbonZone });
      await post(`/v1/sites/${siteId}/tariffs`, market.version);
    } catch (error) {
      options.log(`simulator: site ${siteId} has no demo tariff: ${(error as Error).message}`);
    }
  }
  const answer = (await post('/v1/devices/batch', {
    devices: devices.map(({ registration }) => {
      const { timeZone: _zone, ...device } = registration;
      return device;
    }),
  })) as BatchAnswer;
  for (const result of answer.results)
    if (result.outcome === 'refused')
      options.log(
        `simulator: device ${result.deviceId ?? `#${result.index}`} not registered: ${result.error?.message ?? 'refused'}`,
      );
  options.log(
    `simulator: registered ${answer.registered} devices, ${answer.unchanged} already were, ${answer.refused} refused`,
  );
}

/** Registers a fleet and then posts one batch of readings for all devices every interval. */
export async function runFleet(options: FleetOptions): Promise<RunningFleet> {
  const random = seededRandom(options.seed);
  const now = new Date();
  const devices = createFleet(options.sites, random, now);
  await registerFleet(options, devices);
  let last = Date.now();
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const tick = async () => {
    const at = new Date();
    const elapsedMs = at.getTime() - last;
    last = at.getTime();
    const readings = devices.map((device) => ({
      ...nextReading(device, at, elapsedMs, random),
      time: at.toISOString(),
    }));
    try {
      const response = await fetch(`${options.apiUrl}/v1/readings`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${options.apiKey}`,
        },
        body: JSON.stringify({ readings }),
      });
      if (response.status !== 202 && !stopped)
        options.log(`simulator: API answered ${response.status}: ${await response.text()}`);
    } catch (error) {
      // Once stopping, the API may already be gone (Ctrl-C reaches every process at once).
      if (!stopped) options.log(`simulator: could not reach the API: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(() => {
    if (!stopped) inFlight = inFlight.then(tick);
  }, options.intervalMs);
  return {
    devices,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
