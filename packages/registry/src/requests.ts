import type { z } from 'zod';
import { DeviceRegisteredV1 } from '@gridstream/events';

/**
 * A device registration as the API (POST /v1/devices, …/batch) and the CLI
 * (`gridstream devices import`) take it: the registration event's fields but the time zone
 * (its site's) and the actor (the authenticated caller's). Checked here for shape, judged by
 * decideRegistry.
 */
export const DeviceRegistrationRequest = DeviceRegisteredV1.omit({ timeZone: true, actor: true });
export type DeviceRegistrationRequest = z.infer<typeof DeviceRegistrationRequest>;
