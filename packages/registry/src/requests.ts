import { z } from 'zod';
import { DeviceKind, DeviceRole, EntityId, PhysicalLimit } from '@gridstream/events';

/**
 * A device registration as the API (POST /v1/devices, …/batch) and the CLI
 * (`gridstream devices import`) take it: checked here for shape, judged by decideRegistry.
 */
export const DeviceRegistrationRequest = z.strictObject({
  deviceId: EntityId,
  siteId: EntityId,
  kind: DeviceKind,
  role: DeviceRole,
  name: z.string().min(1).max(200),
  ratedPowerW: z.number().positive().max(PhysicalLimit.powerW).optional(),
  counterWrapWh: z
    .number()
    .positive()
    .max(PhysicalLimit.counterWh)
    .optional()
    .describe("the size of the energy counters' register in Wh (fixed at registration)"),
});
export type DeviceRegistrationRequest = z.infer<typeof DeviceRegistrationRequest>;
