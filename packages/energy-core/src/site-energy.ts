import type { DeviceRole } from '@gridstream/events';

/** One registered device of a site in one bucket; `energy` undefined when it has no figures. */
export interface SiteDeviceEnergy {
  readonly deviceId: string;
  readonly role: DeviceRole;
  readonly energy: { readonly importWh: number; readonly exportWh: number } | undefined;
}

export type SiteEnergyFlag = 'no_grid_meter' | 'negative_balance' | 'missing_devices';

/** A site's energy in one bucket. Definitions and sources: docs/energy.md. */
export interface SiteEnergy {
  /** Null without grid-meter figures: then grid exchange is unknown, not zero. */
  readonly gridImportWh: number | null;
  readonly gridExportWh: number | null;
  readonly productionWh: number;
  /** From the balance when the grid is metered, else the sum of metered consumers. */
  readonly consumptionWh: number;
  readonly consumptionSource: 'balance' | 'consumers';
  /** Sum of what consumer devices imported (a part of consumption when loads are sub-metered). */
  readonly meteredConsumersWh: number;
  readonly batteryChargeWh: number;
  readonly batteryDischargeWh: number;
  readonly selfConsumedWh: number | null;
  /** selfConsumedWh / productionWh, null when nothing was produced or the grid is not metered. */
  readonly selfConsumptionRate: number | null;
  /** (consumption − grid import) / consumption, null when nothing was consumed or no grid meter. */
  readonly autarkyRate: number | null;
  readonly missingDeviceIds: readonly string[];
  readonly flags: readonly SiteEnergyFlag[];
}

function sumBy(
  devices: readonly SiteDeviceEnergy[],
  role: DeviceRole,
  direction: 'importWh' | 'exportWh',
): number {
  let total = 0;
  for (const d of devices) if (d.role === role && d.energy) total += d.energy[direction];
  return total;
}

/**
 * Site figures from device figures of the same bucket (for an hour or a day, from the devices'
 * hour or day totals: rates are recomputed from sums, never averaged). Device directions:
 * grid meter import/export = site import/export; producer export = production; storage
 * import/export = battery charge/discharge; consumer import = metered load.
 */
export function siteEnergy(devices: readonly SiteDeviceEnergy[]): SiteEnergy {
  const missingDeviceIds = devices.filter((d) => d.energy === undefined).map((d) => d.deviceId);
  const gridDevices = devices.filter((d) => d.role === 'grid');
  const gridKnown = gridDevices.length > 0 && gridDevices.every((d) => d.energy !== undefined);
  const productionWh = sumBy(devices, 'producer', 'exportWh');
  const batteryChargeWh = sumBy(devices, 'storage', 'importWh');
  const batteryDischargeWh = sumBy(devices, 'storage', 'exportWh');
  const meteredConsumersWh = sumBy(devices, 'consumer', 'importWh');
  const flags: SiteEnergyFlag[] = [];
  if (missingDeviceIds.length > 0) flags.push('missing_devices');

  if (!gridKnown) {
    flags.push('no_grid_meter');
    return {
      gridImportWh: null,
      gridExportWh: null,
      productionWh,
      consumptionWh: meteredConsumersWh,
      consumptionSource: 'consumers',
      meteredConsumersWh,
      batteryChargeWh,
      batteryDischargeWh,
      selfConsumedWh: null,
      selfConsumptionRate: null,
      autarkyRate: null,
      missingDeviceIds,
      flags: flags.sort(),
    };
  }

  const gridImportWh = sumBy(devices, 'grid', 'importWh');
  const gridExportWh = sumBy(devices, 'grid', 'exportWh');
  const balanceWh =
    gridImportWh + productionWh + batteryDischargeWh - gridExportWh - batteryChargeWh;
  if (balanceWh < 0) flags.push('negative_balance');
  const consumptionWh = Math.max(0, balanceWh);
  const selfConsumedWh = Math.max(0, productionWh - gridExportWh);
  return {
    gridImportWh,
    gridExportWh,
    productionWh,
    consumptionWh,
    consumptionSource: 'balance',
    meteredConsumersWh,
    batteryChargeWh,
    batteryDischargeWh,
    selfConsumedWh,
    selfConsumptionRate: productionWh > 0 ? selfConsumedWh / productionWh : null,
    autarkyRate:
      consumptionWh > 0 ? Math.max(0, (consumptionWh - gridImportWh) / consumptionWh) : null,
    missingDeviceIds,
    flags: flags.sort(),
  };
}
