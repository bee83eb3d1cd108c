import { beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { EventType } from '@gridstream/events';
import type { DeviceKind } from '@gridstream/events';
import { startCommandsProcessor } from '@gridstream/processor-commands';
import { connectMongo } from '@gridstream/mongo';
import { ProjectionReader, rebuildProjection, startLiveProjection } from '@gridstream/projection';
import type { LiveProjection } from '@gridstream/projection';
import { commandsProjection } from '@gridstream/projection-commands';
import type { CommandView } from '@gridstream/projection-commands';
import { devicesProjection } from '@gridstream/projection-devices';
import { bearer, eventually, isolatedConfig, registration } from '../../../test/support.ts';
import { readTopic, teardown } from '../../../test/cleanup.ts';
import { startTestDevices } from './commands-test-devices.ts';
import type { TestDevices, TestDeviceBehaviour } from './commands-test-devices.ts';

const config = isolatedConfig({
  GS_COMMAND_ACK_TIMEOUT_MS: '1500',
  GS_COMMAND_RESULT_TIMEOUT_MS: '3000',
  GS_COMMAND_MAX_ATTEMPTS: '3',
  GS_COMMAND_RETRY_BACKOFF_MS: '300',
  GS_COMMAND_RETRY_MAX_BACKOFF_MS: '1000',
  GS_COMMAND_TIMER_INTERVAL_MS: '100',
});
const tenant = 'acme';
const stopAfterAll = teardown(config);
let api: RunningApi;
/** The Authorization header of a key of `tenant` with every scope. */
let auth = '';
let devices: TestDevices;
let projection: LiveProjection;

/** The test fleet: each device's kind and how it answers commands. */
const FLEET: Readonly<Record<string, { kind: DeviceKind; behaviour: TestDeviceBehaviour }>> = {
  'plug-ok': { kind: 'smart_plug', behaviour: 'answer' },
  'plug-broken': { kind: 'smart_plug', behaviour: 'fail' },
  'plug-offline': { kind: 'smart_plug', behaviour: 'silent' },
  'plug-mute': { kind: 'smart_plug', behaviour: 'ack-only' },
  'battery-1': { kind: 'battery', behaviour: 'answer' },
  'meter-1': { kind: 'meter', behaviour: 'answer' },
  'plug-old': { kind: 'smart_plug', behaviour: 'answer' },
  'plug-late': { kind: 'smart_plug', behaviour: 'late-ack' },
};

let keys = 0;
async function post(deviceId: string, body: object, key = `key-${++keys}`) {
  const response = await api.app.inject({
    method: 'POST',
    url: `/v1/devices/${deviceId}/commands`,
    headers: { authorization: auth, 'idempotency-key': key },
    payload: body,
  });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

async function command(commandId: string): Promise<CommandView | undefined> {
  const response = await api.app.inject({
    method: 'GET',
    url: `/v1/commands/${commandId}`,
    headers: { authorization: auth },
  });
  return response.statusCode === 200 ? response.json<CommandView>() : undefined;
}

/** Waits until the command has that final status; returns its steps as `step:attempt`. */
async function finalSteps(commandId: string, status: string, timeoutMs = 30_000) {
  const view = await eventually(
    `command ${commandId} ${status}`,
    async () => {
      const found = await command(commandId);
      return found?.status === status ? found : undefined;
    },
    timeoutMs,
  );
  // The final status may be folded before the dispatches, which come from the gateway topic.
  await eventually('the live projection caught up', async () =>
    (await projection.lag()) === 0 ? true : undefined,
  );
  const caughtUp = (await command(commandId)) ?? view;
  return {
    view: caughtUp,
    steps: caughtUp.timeline.map(
      (e) => `${e.step}${e.attempt === undefined ? '' : `:${e.attempt}`}`,
    ),
  };
}

beforeAll(async () => {
  devices = await startTestDevices(config, (deviceId) => FLEET[deviceId]?.behaviour ?? 'silent');
  stopAfterAll(() => devices.stop());
  let processor: Awaited<ReturnType<typeof startCommandsProcessor>>;
  let deviceModel: LiveProjection;
  [processor, projection, deviceModel] = await Promise.all([
    startCommandsProcessor(config),
    startLiveProjection(config, commandsProjection, { lagLogIntervalMs: 0 }),
    startLiveProjection(config, devicesProjection, { lagLogIntervalMs: 0 }),
  ]);
  stopAfterAll(() => processor.stop());
  stopAfterAll(() => projection.stop());
  stopAfterAll(() => deviceModel.stop());
  api = await startApi(config, { listen: false });
  auth = await bearer(api, tenant);
  stopAfterAll(() => api.close());
  // given a registered fleet, one of it decommissioned
  const registered = Object.entries(FLEET).map(([deviceId, { kind }]) =>
    registration(tenant, {
      deviceId,
      siteId: 'site-1',
      kind,
      role: kind === 'meter' ? 'grid' : 'consumer',
      nameplate: { ratedPowerW: 5000 },
    }),
  );
  await devices.publisher.publish([
    ...registered,
    {
      id: 'decommission-plug-old',
      type: EventType.deviceDecommissioned,
      source: 'e2e',
      subject: 'plug-old',
      time: '2026-11-02T00:00:00Z',
      tenant,
      data: { deviceId: 'plug-old' },
    },
  ]);
  await eventually('the fleet in the devices read model', async () => {
    const response = await api.app.inject({
      method: 'GET',
      url: '/v1/devices/plug-old',
      headers: { authorization: auth },
    });
    return response.statusCode === 200 &&
      response.json<{ status: string }>().status === 'decommissioned'
      ? true
      : undefined;
  });
  await eventually('every device registered', async () => {
    for (const deviceId of Object.keys(FLEET)) {
      const response = await api.app.inject({
        method: 'GET',
        url: `/v1/devices/${deviceId}`,
        headers: { authorization: auth },
      });
      if (response.statusCode !== 200) return undefined;
    }
    return true;
  });
});

describe('device commands (HTTP, CommandBus, Kafka, command processor, MongoDB)', () => {
  it('accepts a command, dispatches it, and records the acknowledgement and the success', async () => {
    const accepted = await post('plug-ok', {
      action: 'switch_off',
      priority: 'high',
      correlationId: 'c-1',
    });
    expect(accepted).toMatchObject({
      status: 202,
      body: { status: 'requested', replayed: false, action: 'switch_off', priority: 'high' },
    });
    const commandId = String(accepted.body['commandId']);
    const { view, steps } = await finalSteps(commandId, 'succeeded');
    expect(steps).toEqual(['requested', 'dispatched:1', 'acknowledged:1', 'succeeded:1']);
    expect(view).toMatchObject({
      deviceId: 'plug-ok',
      deviceKind: 'smart_plug',
      correlationId: 'c-1',
      attempts: 1,
      latencyMs: expect.any(Number) as number,
    });
    const listed = await api.app.inject({
      method: 'GET',
      url: '/v1/devices/plug-ok/commands',
      headers: { authorization: auth },
    });
    expect(listed.json<{ commands: CommandView[] }>().commands.map((c) => c.commandId)).toContain(
      commandId,
    );
  });

  it('makes one command of one Idempotency-Key, and refuses the key for another request', async () => {
    const body = { action: 'set_power_limit', parameters: { limitW: 2500 } };
    const first = await post('battery-1', body, 'battery-key');
    const again = await post(
      'battery-1',
      { parameters: { limitW: 2500 }, action: 'set_power_limit' },
      'battery-key',
    );
    expect(first.status).toBe(202);
    expect(again).toMatchObject({
      status: 202,
      body: { commandId: first.body['commandId'], replayed: true },
    });
    const other = await post('battery-1', { ...body, parameters: { limitW: 1000 } }, 'battery-key');
    expect(other).toMatchObject({
      status: 409,
      body: {
        code: 'CONFLICT',
        reason: 'idempotency-key-reused',
        issues: [{ in: 'headers', path: 'idempotency-key' }],
      },
    });
    await finalSteps(String(first.body['commandId']), 'succeeded');
    const listed = await api.app.inject({
      method: 'GET',
      url: '/v1/devices/battery-1/commands',
      headers: { authorization: auth },
    });
    expect(listed.json<{ commands: CommandView[] }>().commands).toHaveLength(1);
    const dispatches = devices.dispatched.filter(
      (d) => d.data.commandId === first.body['commandId'],
    );
    expect(new Set(dispatches.map((d) => d.id)).size).toBe(1);
  });

  it('refuses with a status, a reason and the field at fault', async () => {
    const cases = [
      ['nobody', { action: 'switch_off' }, 404, 'NOT_FOUND', 'device-not-found', undefined],
      ['plug-old', { action: 'switch_off' }, 409, 'CONFLICT', 'device-decommissioned', undefined],
      ['meter-1', { action: 'switch_off' }, 422, 'REFUSED', 'action-not-supported', 'action'],
      ['plug-ok', { action: 'launch' }, 400, 'VALIDATION', 'unknown-action', 'action'],
      [
        'battery-1',
        { action: 'set_power_limit', parameters: { limitW: -5 } },
        400,
        'VALIDATION',
        'invalid-parameters',
        'parameters.limitW',
      ],
      [
        'battery-1',
        { action: 'set_power_limit', parameters: { limitW: 9000 } },
        400,
        'VALIDATION',
        'invalid-parameters',
        'parameters.limitW',
      ],
      [
        'plug-ok',
        { action: 'switch_off', expiresAt: '2020-01-01T00:00:00Z' },
        400,
        'VALIDATION',
        'invalid-expiry',
        'expiresAt',
      ],
    ] as const;
    for (const [deviceId, body, status, code, reason, path] of cases) {
      const answer = await post(deviceId, body);
      expect(answer, `${deviceId} ${JSON.stringify(body)}`).toMatchObject({
        status,
        body: { code, reason },
      });
      if (path !== undefined) expect(answer.body).toMatchObject({ issues: [{ in: 'body', path }] });
    }
    const noKey = await api.app.inject({
      method: 'POST',
      url: '/v1/devices/plug-ok/commands',
      headers: { authorization: auth },
      payload: { action: 'switch_off' },
    });
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json()).toMatchObject({
      code: 'VALIDATION',
      issues: [{ in: 'headers', path: 'idempotency-key' }],
    });
  });

  it('records a failure the device reports, with its reason', async () => {
    const accepted = await post('plug-broken', { action: 'switch_on' });
    const { view, steps } = await finalSteps(String(accepted.body['commandId']), 'failed');
    expect(steps).toEqual(['requested', 'dispatched:1', 'acknowledged:1', 'failed:1']);
    expect(view.reason).toBe('relay stuck');
  });

  it('takes an acknowledgement that comes after the deadline, and never sends the retry it scheduled', async () => {
    // given a device that acknowledges just after the ack deadline, before the retry's backoff ends
    const accepted = await post('plug-late', { action: 'switch_on' });
    const commandId = String(accepted.body['commandId']);
    // then the retry scheduled at the deadline is dropped: one attempt, and the success
    const { steps } = await finalSteps(commandId, 'succeeded');
    expect(steps).toEqual([
      'requested',
      'dispatched:1',
      'retry-scheduled:1',
      'acknowledged:1',
      'succeeded:1',
    ]);
    expect(
      devices.dispatched.filter((d) => d.data.commandId === commandId).map((d) => d.data.attempt),
    ).toEqual([1]);
  });

  it('retries an unanswered command with backoff, then times out; an acknowledged one without result times out unretried', async () => {
    const silent = await post('plug-offline', { action: 'switch_on' });
    const mute = await post('plug-mute', { action: 'switch_on' });
    const timedOut = await finalSteps(String(silent.body['commandId']), 'timed-out');
    expect(timedOut.steps).toEqual([
      'requested',
      'dispatched:1',
      'retry-scheduled:1',
      'dispatched:2',
      'retry-scheduled:2',
      'dispatched:3',
      'timed-out',
    ]);
    const [, d1, r1, d2] = timedOut.view.timeline;
    // the first retry waits the backoff after the ack deadline
    expect(Date.parse(d2?.at ?? '') - Date.parse(r1?.at ?? '')).toBeGreaterThanOrEqual(300);
    expect(Date.parse(r1?.at ?? '') - Date.parse(d1?.at ?? '')).toBeGreaterThanOrEqual(1500);
    const unanswered = await finalSteps(String(mute.body['commandId']), 'timed-out');
    expect(unanswered.steps).toEqual(['requested', 'dispatched:1', 'acknowledged:1', 'timed-out']);
  });

  it('expires a command the device has not acknowledged by its expiry', async () => {
    // plug-offline is free again once its earlier command timed out
    await eventually('plug-offline idle', async () => {
      const response = await api.app.inject({
        method: 'GET',
        url: '/v1/devices/plug-offline/commands?status=dispatched',
        headers: { authorization: auth },
      });
      return response.json<{ commands: unknown[] }>().commands.length === 0 ? true : undefined;
    });
    const accepted = await post('plug-offline', {
      action: 'switch_off',
      expiresAt: new Date(Date.now() + 2_500).toISOString(),
    });
    const { steps, view } = await finalSteps(String(accepted.body['commandId']), 'expired');
    expect(steps[0]).toBe('requested');
    expect(steps.at(-1)).toBe('expired');
    expect(Date.parse(view.finishedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(view.expiresAt ?? ''),
    );
  });

  it('cancels a queued and a dispatched command, and refuses to cancel a finished one', async () => {
    // given a device that never answers, busy with one command while a second waits
    const busy = await post('plug-offline', { action: 'switch_on' });
    const queued = await post('plug-offline', { action: 'switch_off', priority: 'low' });
    const busyId = String(busy.body['commandId']);
    const queuedId = String(queued.body['commandId']);
    const cancel = (commandId: string) =>
      api.app.inject({
        method: 'POST',
        url: `/v1/commands/${commandId}/cancel`,
        headers: { authorization: auth },
        payload: { reason: 'changed my mind' },
      });
    // when both are cancelled
    expect((await cancel(queuedId)).statusCode).toBe(202);
    expect((await cancel(busyId)).statusCode).toBe(202);
    // then both end cancelled; the queued one never went out
    const queuedSteps = await finalSteps(queuedId, 'cancelled');
    expect(queuedSteps.steps).toEqual(['requested', 'cancellation-requested', 'cancelled']);
    const busySteps = await finalSteps(busyId, 'cancelled');
    expect(busySteps.steps.slice(0, 2)).toEqual(['requested', 'dispatched:1']);
    expect(devices.dispatched.some((d) => d.data.commandId === queuedId)).toBe(false);
    const again = await cancel(queuedId);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'CONFLICT', reason: 'command-finished' });
    expect((await cancel('no-such-command')).statusCode).toBe(404);
  });

  it('dispatches the waiting command of higher priority first', async () => {
    // given a device that never answers, busy with one command while a low and then a high
    // priority command wait
    const busy = await post('plug-offline', { action: 'switch_on' });
    const low = await post('plug-offline', { action: 'switch_on', priority: 'low' });
    const high = await post('plug-offline', { action: 'switch_on', priority: 'high' });
    const ids = [busy, low, high].map((answer) => String(answer.body['commandId']));
    const [busyId = '', lowId = '', highId = ''] = ids;
    await eventually('the busy command dispatched', async () =>
      devices.dispatched.some((d) => d.data.commandId === busyId) ? true : undefined,
    );
    await eventually('both others requested', async () =>
      (await command(lowId)) !== undefined && (await command(highId)) !== undefined
        ? true
        : undefined,
    );
    // when the device is free again (the busy command cancelled, with no body at all; or waiting
    // to retry after its acknowledgement deadline)
    const cancelled = await api.app.inject({
      method: 'POST',
      url: `/v1/commands/${busyId}/cancel`,
      headers: { authorization: auth },
    });
    expect(cancelled.statusCode).toBe(202);
    // then the high priority command goes out next, though requested after the low one
    const next = await eventually('the next dispatch', async () =>
      devices.dispatched.find((d) => d.data.commandId === lowId || d.data.commandId === highId),
    );
    expect(next.data.commandId).toBe(highId);
    for (const commandId of [highId, lowId])
      await api.app.inject({
        method: 'POST',
        url: `/v1/commands/${commandId}/cancel`,
        headers: { authorization: auth },
      });
    await finalSteps(highId, 'cancelled');
    await finalSteps(lowId, 'cancelled');
  });

  it('gives success rate and latency percentiles per action and device kind', async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const response = await api.app.inject({
      method: 'GET',
      url: `/v1/commands/stats?from=${from}`,
      headers: { authorization: auth },
    });
    expect(response.statusCode).toBe(200);
    const stats = response.json<{
      groups: {
        action: string;
        deviceKind: string;
        successRate: number | null;
        latencyMs: { p50: number } | null;
      }[];
    }>();
    const plugOff = stats.groups.find(
      (g) => g.action === 'switch_off' && g.deviceKind === 'smart_plug',
    );
    const battery = stats.groups.find(
      (g) => g.action === 'set_power_limit' && g.deviceKind === 'battery',
    );
    expect(battery).toMatchObject({ successRate: 1 });
    expect(battery?.latencyMs?.p50).toBeGreaterThan(0);
    // switch_off on plugs: one succeeded, one expired (the cancelled one is not judged)
    expect(plugOff?.successRate).toBeCloseTo(0.5, 5);
    const bad = await api.app.inject({
      method: 'GET',
      url: '/v1/commands/stats?from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z',
      headers: { authorization: auth },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ issues: [{ in: 'querystring', path: 'from' }] });
  });

  it('rebuilds the commands read model from the log into documents identical to the live ones', async () => {
    // given the live projection caught up with every command above
    await eventually('the live projection caught up', async () =>
      (await projection.lag()) === 0 ? true : undefined,
    );
    const mongo = await connectMongo(config);
    stopAfterAll(() => mongo.close());
    const reader = new ProjectionReader(mongo.db, commandsProjection);
    const documents = async () =>
      (await (await reader.collection()).find({}).sort({ _id: 1 }).toArray()).map((d) => [
        d._id,
        d.state,
      ]);
    const live = await documents();
    expect(live).toHaveLength(12);
    const liveBuild = projection.buildId();
    // when it is rebuilt from the commands and gateway topics, in two parts, each in a worker
    // thread
    const lines: string[] = [];
    const result = await rebuildProjection(
      { ...config, GS_PROJECTION_REBUILD_WORKERS: 2 },
      commandsProjection,
      { caughtUpLag: 0, log: (line) => lines.push(line) },
    );
    expect(lines).toContain('rebuild commands: folding in 2 parts, each in a worker thread');
    // then readers and the live service are on the new build, with the same documents
    expect(result.previous).toBe(liveBuild);
    expect(projection.buildId()).toBe(result.buildId);
    await eventually('readers on the new build', async () =>
      (await reader.collection()).collectionName.endsWith(result.buildId) ? true : undefined,
    );
    expect(await documents()).toEqual(live);
  });
});

describe('device commands, tightened', () => {
  it('publishes command.requested once when eight requests race with one Idempotency-Key', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => post('plug-ok', { action: 'switch_on' }, 'race-1')),
    );
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 8 }, () => 202));
    const commandId = String(answers[0]?.body['commandId']);
    expect(new Set(answers.map((a) => a.body['commandId']))).toEqual(new Set([commandId]));
    await finalSteps(commandId, 'succeeded');
    const requested = (await readTopic(config, 'commands')).filter(
      (m) =>
        m.headers['ce_type'] === EventType.commandRequested &&
        (JSON.parse(m.value) as { commandId: string }).commandId === commandId,
    );
    expect(requested).toHaveLength(1);
  });

  it('takes an expiry written …:00Z and …:00.000Z as the same request', async () => {
    const expiresAt = new Date(Date.now() + 600_000);
    expiresAt.setUTCMilliseconds(0);
    const short = expiresAt.toISOString().replace('.000Z', 'Z');
    const first = await post('plug-ok', { action: 'switch_off', expiresAt: short }, 'expiry-1');
    const again = await post(
      'plug-ok',
      { action: 'switch_off', expiresAt: expiresAt.toISOString() },
      'expiry-1',
    );
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.body).toMatchObject({ replayed: true, commandId: first.body['commandId'] });
  });

  it('answers a replay of a finished command with its status now', async () => {
    const first = await post('plug-ok', { action: 'switch_on' }, 'finished-1');
    const commandId = String(first.body['commandId']);
    await finalSteps(commandId, 'succeeded');
    const again = await post('plug-ok', { action: 'switch_on' }, 'finished-1');
    expect(again.body).toMatchObject({ commandId, replayed: true, status: 'succeeded' });
  });

  it('gives every event of a command its correlationId', async () => {
    const first = await post('plug-ok', { action: 'switch_on', correlationId: 'trace-e2e' });
    const commandId = String(first.body['commandId']);
    await finalSteps(commandId, 'succeeded');
    const events = [
      ...(await readTopic(config, 'commands')),
      ...(await readTopic(config, 'gateway')),
    ]
      .filter((m) => (JSON.parse(m.value) as { commandId?: string }).commandId === commandId)
      .map((m) => ({
        type: m.headers['ce_type'],
        correlationId: (JSON.parse(m.value) as { correlationId?: string }).correlationId,
      }));
    // requested, dispatched, the device's two reports, acknowledged, succeeded
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set([
        EventType.commandRequested,
        EventType.commandDispatched,
        EventType.commandReported,
        EventType.commandAcknowledged,
        EventType.commandSucceeded,
      ]),
    );
    expect(events.filter((e) => e.correlationId !== 'trace-e2e')).toEqual([]);
  });

  it('takes who asks from the key, never from the body', async () => {
    const keyId = /^Bearer gs_([0-9a-f]+)_/.exec(auth)?.[1];
    expect(keyId).toBeDefined();
    // a body that names who asks is refused, for a request and for a cancellation
    const refused = await post('plug-ok', { action: 'switch_on', requestedBy: 'someone-else' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      code: 'VALIDATION',
      reason: 'invalid-request',
      issues: [expect.objectContaining({ in: 'body' })],
    });
    expect(JSON.stringify(refused.body)).toContain('requestedBy');
    const made = await post('plug-offline', { action: 'switch_on', priority: 'low' });
    const commandId = String(made.body['commandId']);
    const cancelRefused = await api.app.inject({
      method: 'POST',
      url: `/v1/commands/${commandId}/cancel`,
      headers: { authorization: auth },
      payload: { requestedBy: 'someone-else' },
    });
    expect(cancelRefused.statusCode).toBe(400);
    expect(cancelRefused.body).toContain('requestedBy');
    // and the command names the key that asked for it and for its cancellation
    await api.app.inject({
      method: 'POST',
      url: `/v1/commands/${commandId}/cancel`,
      headers: { authorization: auth },
    });
    const { view } = await finalSteps(commandId, 'cancelled');
    expect(view.requestedBy).toBe(`key:${String(keyId)}`);
    expect(view.timeline.find((e) => e.step === 'cancelled')?.detail).toMatchObject({
      requestedBy: `key:${String(keyId)}`,
    });
  });

  it("shows a cancellation's reason in the command's timeline", async () => {
    const queued = await post('plug-offline', { action: 'switch_off', priority: 'low' });
    const commandId = String(queued.body['commandId']);
    const cancelled = await api.app.inject({
      method: 'POST',
      url: `/v1/commands/${commandId}/cancel`,
      headers: { authorization: auth },
      payload: { reason: 'wrong plug' },
    });
    expect(cancelled.statusCode).toBe(202);
    const { view } = await finalSteps(commandId, 'cancelled');
    expect(view.timeline.find((e) => e.step === 'cancellation-requested')?.detail).toMatchObject({
      reason: 'wrong plug',
      requestedBy: expect.stringMatching(/^key:/) as unknown,
    });
  });

  it('refuses statistics of an unknown action with 400 naming the field', async () => {
    const response = await api.app.inject({
      url: '/v1/commands/stats?action=nope',
      headers: { authorization: auth },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'VALIDATION',
      reason: 'invalid-request',
      issues: [expect.objectContaining({ in: 'querystring', path: 'action' })],
    });
  });
});
