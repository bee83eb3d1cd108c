// @ts-check
// A device's history in words: each archived event (GET /v1/devices/:id/history, oldest first)
// becomes a line saying what happened and who did it. Pure: no DOM, no fetch. The events are
// read in order so a line can say what changed (a rename names the old name) and which action a
// command's later events are about (only its request carries the action).

/**
 * @typedef {{ id: string, type: string, time: string, source: string, subject: string,
 *   data: Record<string, unknown> }} ArchivedEvent
 * @typedef {{ eventId: string, type: string, time: string, what: string, by: string,
 *   automatic: boolean }} HistoryLine
 */

const PREFIX = 'gridstream.';
const ENERGY_TYPE = 'gridstream.energy.quarter-hour-computed.v1';

/** @param {unknown} value */
const text = (value) => (typeof value === 'string' ? value : undefined);
/** @param {unknown} value */
const number = (value) => (typeof value === 'number' ? value : undefined);
/** @param {unknown} reason */
const because = (reason) => {
  const given = text(reason);
  return given === undefined || given === '' ? ' (no reason given)' : `: ${given}`;
};
/** @param {string} commandId */
const shortId = (commandId) => commandId.slice(0, 8);

/**
 * Describes a device's events, oldest first as the API gives them, one line per event, except
 * that quarter-hour energy events are left to `collapseEnergy`.
 * @param {ArchivedEvent[]} events
 * @param {(time: string) => string} formatTime how an instant named in a line is written
 * @returns {HistoryLine[]}
 */
export function describeHistory(events, formatTime) {
  /** @type {{ name?: string, role?: string, ratedPowerW?: number }} */
  const device = {};
  /** @type {Map<string, string>} the action of each command requested */
  const actions = new Map();
  return events.map((event) => {
    const data = event.data;
    const actor = text(data['actor']) ?? text(data['requestedBy']);
    const line = (/** @type {string} */ what) => ({
      eventId: event.id,
      type: event.type,
      time: event.time,
      what,
      by: actor ?? event.source,
      automatic: actor === undefined,
    });
    const commandId = text(data['commandId']) ?? '';
    const command = `command ${actions.get(commandId) ?? shortId(commandId)}`;
    const at = (/** @type {unknown} */ time) => {
      const given = text(time);
      return given === undefined ? '?' : formatTime(given);
    };
    const attempt = number(data['attempt']);
    const ofAttempt = attempt === undefined ? '' : ` (attempt ${attempt})`;
    switch (event.type.slice(PREFIX.length)) {
      // the API upcasts what was archived as v1 (docs/events.md, Versions)
      case 'device.registered.v2': {
        const nameplate = data['nameplate'];
        device.name = text(data['name']);
        device.role = text(data['role']);
        device.ratedPowerW =
          typeof nameplate === 'object' && nameplate !== null
            ? number(/** @type {Record<string, unknown>} */ (nameplate)['ratedPowerW'])
            : undefined;
        const rated = device.ratedPowerW === undefined ? '' : `, rated ${device.ratedPowerW} W`;
        return line(
          `registered on site ${text(data['siteId']) ?? '?'} as ${text(data['kind']) ?? '?'} ` +
            `(${device.role ?? '?'}), named "${device.name ?? ''}"${rated}`,
        );
      }
      case 'device.updated.v1':
        return line(updated(device, data));
      case 'device.decommissioned.v1':
        return line(`decommissioned${because(data['reason'])}`);
      case 'device.restored.v1':
        return line(`restored to service${because(data['reason'])}`);
      case 'device.moved.v1':
        return line(
          `moved from site ${text(data['fromSiteId']) ?? '?'} to ${text(data['toSiteId']) ?? '?'}` +
            `, effective ${at(data['effectiveAt'])}`,
        );
      case 'command.requested.v1': {
        const action = text(data['action']) ?? '?';
        actions.set(commandId, action);
        const parameters = Object.entries(
          /** @type {Record<string, unknown>} */ (data['parameters'] ?? {}),
        ).map(([name, value]) => `${name}=${String(value)}`);
        return line(
          `command ${action} requested` +
            (parameters.length === 0 ? '' : ` (${parameters.join(', ')})`),
        );
      }
      case 'command.cancellation-requested.v1':
        return line(`cancellation of ${command} requested${because(data['reason'])}`);
      case 'command.dispatched.v1':
        return line(`${command} sent to the device${ofAttempt}`);
      case 'command.reported.v1':
        return line(`the device reported ${command} ${text(data['outcome']) ?? '?'}${ofAttempt}`);
      case 'command.acknowledged.v1':
        return line(`${command} acknowledged${ofAttempt}`);
      case 'command.succeeded.v1':
        return line(`${command} succeeded${ofAttempt}`);
      case 'command.failed.v1':
        return line(`${command} failed${because(data['reason'])}`);
      case 'command.retry-scheduled.v1':
        return line(`${command} unanswered${ofAttempt}, retry at ${at(data['retryAt'])}`);
      case 'command.timed-out.v1':
        return line(
          `${command} timed out waiting for its ${text(data['waitingFor']) ?? '?'} ` +
            `after ${number(data['attempts']) ?? '?'} attempts`,
        );
      case 'command.expired.v1':
        return line(`${command} expired after ${number(data['attempts']) ?? '?'} attempts`);
      case 'command.cancelled.v1':
        return line(`${command} cancelled`);
      case 'command.rejected.v1':
        return line(`${command} rejected: ${text(data['reason']) ?? '?'}`);
      case 'command.late-reported.v1':
        return line(`${command} reported ${text(data['outcome']) ?? '?'} too late`);
      case 'alert.raised.v1':
        return line(`alert raised: ${text(data['kind']) ?? '?'}`);
      case 'alert.cleared.v1':
        return line(`alert cleared: ${text(data['kind']) ?? '?'} (${text(data['reason']) ?? '?'})`);
      default:
        return line(event.type);
    }
  });
}

/**
 * @param {{ name?: string, role?: string, ratedPowerW?: number }} device what it was, updated
 * @param {Record<string, unknown>} data
 */
function updated(device, data) {
  const changes = [];
  const name = text(data['name']);
  if (name !== undefined) {
    changes.push(
      device.name === undefined ? `named "${name}"` : `renamed "${device.name}" → "${name}"`,
    );
    device.name = name;
  }
  const role = text(data['role']);
  if (role !== undefined) {
    changes.push(`role ${device.role ?? '?'} → ${role}`);
    device.role = role;
  }
  const ratedPowerW = number(data['ratedPowerW']);
  if (ratedPowerW !== undefined) {
    changes.push(`rated power ${device.ratedPowerW ?? '–'} → ${ratedPowerW} W`);
    device.ratedPowerW = ratedPowerW;
  }
  return `updated: ${changes.length === 0 ? 'nothing named' : changes.join(', ')}`;
}

/**
 * Newest first, with each run of quarter-hour energy events (published every 15 minutes, and
 * again when late data corrects one) folded into one line that counts its quarter hours.
 * @param {HistoryLine[]} lines oldest first
 * @param {ArchivedEvent[]} events the same events, in the same order
 * @param {(time: string) => string} formatTime
 * @returns {HistoryLine[]}
 */
export function newestFirst(lines, events, formatTime) {
  /** @type {HistoryLine[]} */
  const shown = [];
  /** @type {{ first: HistoryLine, last: HistoryLine, buckets: Set<string> } | undefined} */
  let run;
  const endRun = () => {
    if (run === undefined) return;
    const { first, last, buckets } = run;
    shown.push({
      ...last,
      what:
        `energy of ${buckets.size} quarter hour${buckets.size === 1 ? '' : 's'} computed` +
        (first === last ? '' : `, since ${formatTime(first.time)}`),
    });
    run = undefined;
  };
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = /** @type {HistoryLine} */ (lines[i]);
    if (line.type !== ENERGY_TYPE) {
      endRun();
      shown.push(line);
      continue;
    }
    const bucket = text(events[i]?.data['bucketStart']) ?? line.time;
    if (run === undefined) run = { first: line, last: line, buckets: new Set() };
    run.first = line;
    run.buckets.add(bucket);
  }
  endRun();
  return shown;
}
