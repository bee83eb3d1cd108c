import { EntityId } from '@gridstream/events';
import type { TopicRoute } from './types.ts';

const isEntityId = (value: string) => EntityId.safeParse(value).success;

/**
 * Shelly topics under a device's prefix that carry no readings: the last will (`online`), RPC
 * requests to the device and their MQTT control interface (`rpc`, `command`, `command/<component>`)
 * and the debug log. Routed, so they are dropped quietly instead of dead-lettered.
 */
const SHELLY_QUIET = new Set(['online', 'rpc', 'command', 'debug']);

/**
 * The format, tenant and device root a topic names; undefined for a topic of none of the schemes
 * (the bridge dead-letters its message as `unknown-topic`):
 *
 * - `gridstream/<tenant>/<deviceId>/readings`
 * - `gridstream/<tenant>/shelly/<name>/events/rpc`, `…/status/<component>`, and the device's other
 *   topics (`online`, `rpc`, `command[/…]`, `debug/…`)
 * - `gridstream/<tenant>/tasmota/<topic>/<prefix>/<message type>` (FullTopic
 *   `gridstream/<tenant>/tasmota/%topic%/%prefix%/`)
 */
export function routeTopic(topic: string): TopicRoute | undefined {
  const parts = topic.split('/');
  const [scheme, tenant, third, fourth, ...rest] = parts;
  if (scheme !== 'gridstream' || tenant === undefined || !isEntityId(tenant)) return undefined;
  if (third === undefined || fourth === undefined || parts.some((part) => part === ''))
    return undefined;

  if (rest.length === 0)
    return fourth === 'readings' && isEntityId(third)
      ? { format: 'gridstream', tenant, deviceId: third }
      : undefined;

  const root = `gridstream/${tenant}/${third}/${fourth}`;
  if (third === 'shelly') {
    const [first, second, ...more] = rest;
    if (first === 'events' && second === 'rpc' && more.length === 0)
      return { format: 'shelly', tenant, root, kind: 'rpc' };
    if (first === 'status' && second !== undefined && more.length === 0)
      return { format: 'shelly', tenant, root, kind: 'status', component: second };
    if (first !== undefined && SHELLY_QUIET.has(first))
      return { format: 'shelly', tenant, root, kind: 'other' };
    return undefined;
  }
  if (third === 'tasmota') {
    const [prefix, ...type] = rest;
    if (prefix === undefined || type.length === 0) return undefined;
    return { format: 'tasmota', tenant, root, prefix, messageType: type.join('/') };
  }
  return undefined;
}
