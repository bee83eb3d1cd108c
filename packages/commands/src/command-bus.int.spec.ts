import { mongoClient } from '@gridstream/mongo';
import { afterAll, describe, expect, it } from 'vitest';
import type { GridstreamEvent } from '@gridstream/events';
import { isolatedConfig } from '../../../test/support.ts';
import { dropTestData } from '../../../test/cleanup.ts';
import {
  PUBLISH_CLAIM_MS,
  RequestDeviceCommand,
  RequestDeviceCommandHandler,
} from './command-bus.ts';
import { decideRequest, fingerprintOf } from './decide-request.ts';
import type { CommandRequest, DeviceFacts } from './decide-request.ts';
import { openIdempotencyStore } from './idempotency-store.ts';

const config = isolatedConfig();
const client = mongoClient(config);
afterAll(async () => {
  await client.close();
  await dropTestData(config);
});

const plug: DeviceFacts = { status: 'active', kind: 'smart_plug' };
const rules = { defaultTtlMs: 300_000, maxTtlMs: 86_400_000 };
const request = (idempotencyKey: string): CommandRequest => ({
  tenant: 'acme',
  deviceId: 'plug-1',
  idempotencyKey,
  action: 'switch_on',
  parameters: {},
  priority: 'normal',
  requestedBy: 'key:k1',
});

/**
 * The request handler on the real MongoDB store. Kafka is not the subject here (the e2e test
 * has it): publishing records the events, taking as long as a produce to Kafka does.
 */
async function writeSide() {
  const idempotency = await openIdempotencyStore(client.db(config.GS_MONGO_DB));
  const published: GridstreamEvent[] = [];
  const handler = new RequestDeviceCommandHandler({
    findDevice: () => Promise.resolve(plug),
    findCommand: () => Promise.resolve(undefined),
    idempotency,
    publish: async (events) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      published.push(...events);
    },
    nowMs: () => Date.now(),
    rules,
  });
  const execute = (given: CommandRequest) => handler.execute(new RequestDeviceCommand(given));
  return { idempotency, published, execute };
}

const race = <T>(times: number, run: () => Promise<T>) =>
  Promise.all(Array.from({ length: times }, run));

describe('the request handler publishes command.requested once', () => {
  it('when eight requests race with one Idempotency-Key', async () => {
    const { published, execute } = await writeSide();
    // when eight twins of a request race
    const answers = await race(8, () => execute(request('twins')));
    // then one made the command, the others replayed it, and it was published once
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.event.id)).size).toBe(1);
    expect(published).toHaveLength(1);
  });

  it('when replays race for a record its maker left unpublished (a crash)', async () => {
    const { idempotency, published, execute } = await writeSide();
    // given a request recorded, whose maker crashed before publishing it
    const given = request('crashed');
    const decision = decideRequest(plug, given, Date.now(), rules);
    if (!decision.accepted) throw new Error('accepted expected');
    const claimRanOutAtMs = Date.now() - 1;
    await idempotency.insert(
      'acme',
      'crashed',
      { fingerprint: fingerprintOf(given), event: decision.event },
      claimRanOutAtMs,
    );
    // when eight clients send it again at once
    const answers = await race(8, () => execute(given));
    // then each is answered with the command, which one of them published
    expect(answers.every((a) => a.replayed && a.event.id === decision.event.id)).toBe(true);
    expect(published).toHaveLength(1);
    expect(await idempotency.find('acme', 'crashed')).toMatchObject({ published: true });
  });

  it('when a crash left it unpublished, by a replay that waits out the claim', async () => {
    const { idempotency, published, execute } = await writeSide();
    const given = request('just-crashed');
    const decision = decideRequest(plug, given, Date.now(), rules);
    if (!decision.accepted) throw new Error('accepted expected');
    // given a maker that crashed just after recording (its claim still runs)
    const startedAtMs = Date.now();
    await idempotency.insert(
      'acme',
      'just-crashed',
      { fingerprint: fingerprintOf(given), event: decision.event },
      startedAtMs + 300,
    );
    // when the client sends it again at once, then the replay publishes it once the claim is over
    await execute(given);
    expect(Date.now() - startedAtMs).toBeGreaterThanOrEqual(300);
    expect(Date.now() - startedAtMs).toBeLessThan(PUBLISH_CLAIM_MS);
    expect(published.map((e) => e.id)).toEqual([decision.event.id]);
  });

  it('never publishes again once published', async () => {
    const { idempotency, published, execute } = await writeSide();
    await execute(request('done'));
    expect(await idempotency.find('acme', 'done')).toMatchObject({ published: true });
    await race(4, () => execute(request('done')));
    expect(published).toHaveLength(1);
  });
});
