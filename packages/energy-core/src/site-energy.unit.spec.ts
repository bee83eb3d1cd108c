import { describe, expect, it } from 'vitest';
import { siteEnergy } from './site-energy.ts';
import type { SiteDeviceEnergy } from './site-energy.ts';

const device = (
  deviceId: string,
  role: SiteDeviceEnergy['role'],
  importWh: number,
  exportWh: number,
): SiteDeviceEnergy => ({ deviceId, role, energy: { importWh, exportWh } });

describe('siteEnergy', () => {
  it('computes the balance, self-consumption and autarky of a PV + battery site', () => {
    // given, in one bucket: grid import 200, feed-in 300; PV 1000; battery charged 400,
    // discharged 100; a metered heat pump took 250
    const site = siteEnergy([
      device('meter', 'grid', 200, 300),
      device('pv', 'producer', 5, 1_000),
      device('battery', 'storage', 400, 100),
      device('heat-pump', 'consumer', 250, 0),
    ]);
    // then consumption = 200 + 1000 + 100 - 300 - 400 = 600
    // self-consumed = 1000 - 300 = 700, rate 0.7; autarky = (600 - 200) / 600
    expect(site).toEqual({
      gridImportWh: 200,
      gridExportWh: 300,
      productionWh: 1_000,
      consumptionWh: 600,
      consumptionSource: 'balance',
      meteredConsumersWh: 250,
      batteryChargeWh: 400,
      batteryDischargeWh: 100,
      selfConsumedWh: 700,
      selfConsumptionRate: 0.7,
      autarkyRate: 400 / 600,
      missingDeviceIds: [],
      flags: [],
    });
  });

  it('a site without production has no self-consumption rate and no autarky', () => {
    const site = siteEnergy([device('meter', 'grid', 500, 0), device('plug', 'consumer', 100, 0)]);
    expect(site).toMatchObject({
      consumptionWh: 500,
      productionWh: 0,
      selfConsumedWh: 0,
      selfConsumptionRate: null,
      autarkyRate: 0,
    });
  });

  it('a site without a grid meter reports grid as unknown and consumption from its consumers', () => {
    const site = siteEnergy([
      device('pv', 'producer', 0, 800),
      device('heat-pump', 'consumer', 300, 0),
      device('plug', 'consumer', 50, 0),
    ]);
    expect(site).toMatchObject({
      gridImportWh: null,
      gridExportWh: null,
      productionWh: 800,
      consumptionWh: 350,
      consumptionSource: 'consumers',
      selfConsumedWh: null,
      selfConsumptionRate: null,
      autarkyRate: null,
      flags: ['no_grid_meter'],
    });
  });

  it('a grid meter without figures in the bucket makes the grid unknown, and is listed', () => {
    const site = siteEnergy([
      { deviceId: 'meter', role: 'grid', energy: undefined },
      device('pv', 'producer', 0, 800),
    ]);
    expect(site).toMatchObject({
      gridImportWh: null,
      missingDeviceIds: ['meter'],
      flags: ['missing_devices', 'no_grid_meter'],
    });
  });

  it('a negative balance (meters out of step) gives zero consumption, flagged', () => {
    const site = siteEnergy([device('meter', 'grid', 0, 900), device('pv', 'producer', 0, 800)]);
    expect(site).toMatchObject({
      consumptionWh: 0,
      autarkyRate: null,
      selfConsumedWh: 0,
      selfConsumptionRate: 0,
      flags: ['negative_balance'],
    });
  });

  it('a fully self-supplied bucket has autarky 1', () => {
    const site = siteEnergy([device('meter', 'grid', 0, 100), device('pv', 'producer', 0, 600)]);
    expect(site).toMatchObject({ consumptionWh: 500, selfConsumedWh: 500, autarkyRate: 1 });
  });
});
