import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import { createFleet, nextReading, seededRandom } from './fleet.ts';
import type { SimulatedDevice } from './fleet.ts';

export interface FleetOptions {
  readonly apiUrl: string;
  readonly tenant: string;
  /** A key of that tenant with the ingest scope: the fleet posts its readings with it. */
  readonly apiKey: string;
  readonly sites: number;
  readonly intervalMs: number;
  readonly seed: number;
  /** Registers devices; the simulator plays the installer who adds them to the registry. */
  readonly register: (
    events: readonly EventOf<typeof EventType.deviceRegistered>[],
  ) => Promise<void>;
  readonly newEventId: () => string;
  readonly log: (line: string) => void;
}

export interface RunningFleet {
  readonly devices: readonly SimulatedDevice[];
  stop(): Promise<void>;
}

/** Registers a fleet and then posts one batch of readings for all devices every interval. */
export async function runFleet(options: FleetOptions): Promise<RunningFleet> {
  const random = seededRandom(options.seed);
  const now = new Date();
  const devices = createFleet(options.sites, random, now);
  await options.register(
    devices.map((device) => ({
      id: options.newEventId(),
      type: EventType.deviceRegistered,
      source: 'simulator',
      subject: device.registration.deviceId,
      time: now.toISOString(),
      tenant: options.tenant,
      data: device.registration,
    })),
  );
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
