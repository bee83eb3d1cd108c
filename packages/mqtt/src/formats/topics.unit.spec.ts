import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routeTopic } from './topics.ts';

// Segments as EntityId allows them (tenants, device ids), and free names (Shelly prefix, %topic%).
const entityId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/);
const name = fc.stringMatching(/^[^/+#]{1,30}$/);

describe('routeTopic', () => {
  it('routes gridstream’s own readings topic to the tenant and the device it names', () => {
    expect(routeTopic('gridstream/acme/meter-1/readings')).toEqual({
      format: 'gridstream',
      tenant: 'acme',
      deviceId: 'meter-1',
    });
  });

  it('routes a Shelly’s notifications, its component statuses and its other topics', () => {
    const root = 'gridstream/acme/shelly/hall';
    expect(routeTopic(`${root}/events/rpc`)).toEqual({
      format: 'shelly',
      tenant: 'acme',
      root,
      kind: 'rpc',
    });
    expect(routeTopic(`${root}/status/switch:0`)).toEqual({
      format: 'shelly',
      tenant: 'acme',
      root,
      kind: 'status',
      component: 'switch:0',
    });
    // the last will, RPC requests to the device, its control topics: routed, to be dropped
    for (const other of ['online', 'rpc', 'command', 'command/switch:0', 'debug/log'])
      expect(routeTopic(`${root}/${other}`)).toMatchObject({ format: 'shelly', kind: 'other' });
  });

  it('routes Tasmota topics of FullTopic gridstream/<tenant>/tasmota/%topic%/%prefix%/', () => {
    expect(routeTopic('gridstream/acme/tasmota/plug7/tele/SENSOR')).toEqual({
      format: 'tasmota',
      tenant: 'acme',
      root: 'gridstream/acme/tasmota/plug7',
      prefix: 'tele',
      messageType: 'SENSOR',
    });
    expect(routeTopic('gridstream/acme/tasmota/plug7/tele/LWT')).toMatchObject({
      messageType: 'LWT',
    });
    // a Zigbee bridge's per-device subtopic keeps its whole rest as the type
    expect(routeTopic('gridstream/acme/tasmota/zb/tele/lamp/SENSOR')).toMatchObject({
      prefix: 'tele',
      messageType: 'lamp/SENSOR',
    });
  });

  it('knows no other topic', () => {
    for (const topic of [
      '',
      'gridstream',
      'gridstream/acme',
      'gridstream/acme/meter-1',
      'gridstream/acme/meter-1/commands',
      'gridstream/acme/meter-1/readings/extra',
      'gridstream//meter-1/readings',
      'gridstream/acme//readings',
      'gridstream/-acme/meter-1/readings', // a tenant id starts alphanumeric
      'gridstream/acme/me ter/readings',
      'other/acme/meter-1/readings',
      'gridstream/acme/shelly/hall',
      'gridstream/acme/shelly/hall/events',
      'gridstream/acme/shelly/hall/events/rpc/more',
      'gridstream/acme/shelly/hall/status',
      'gridstream/acme/shelly/hall/status/switch:0/x',
      'gridstream/acme/shelly/hall/announce',
      'gridstream/acme/tasmota/plug7',
      'gridstream/acme/tasmota/plug7/tele',
      'gridstream/acme/tasmota/plug7/tele/',
      'gridstream/acme/zigbee/x/y',
    ])
      expect(routeTopic(topic), topic).toBeUndefined();
  });

  it('gives back the parts a topic was built from', () => {
    fc.assert(
      fc.property(entityId, entityId, (tenant, deviceId) => {
        expect(routeTopic(`gridstream/${tenant}/${deviceId}/readings`)).toEqual({
          format: 'gridstream',
          tenant,
          deviceId,
        });
      }),
    );
    fc.assert(
      fc.property(entityId, name, fc.constantFrom('switch:0', 'em:0', 'pm1:3'), (t, n, c) => {
        expect(routeTopic(`gridstream/${t}/shelly/${n}/status/${c}`)).toEqual({
          format: 'shelly',
          tenant: t,
          root: `gridstream/${t}/shelly/${n}`,
          kind: 'status',
          component: c,
        });
      }),
    );
    fc.assert(
      fc.property(entityId, name, name, name, (t, topic, prefix, type) => {
        expect(routeTopic(`gridstream/${t}/tasmota/${topic}/${prefix}/${type}`)).toEqual({
          format: 'tasmota',
          tenant: t,
          root: `gridstream/${t}/tasmota/${topic}`,
          prefix,
          messageType: type,
        });
      }),
    );
  });
});
