import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { readTopic, teardown } from '../../../test/cleanup.ts';
import { startTestDevices } from './commands-test-devices.ts';
import type { TestDevices } from './commands-test-devices.ts';

const config = isolatedConfig({
  GS_COMMAND_ACK_TIMEOUT_MS: '2000',
  GS_COMMAND_RESULT_TIMEOUT_MS: '20000',
  GS_COMMAND_MAX_ATTEMPTS: '3',
  GS_COMMAND_RETRY_BACKOFF_MS: '500',
  GS_COMMAND_RETRY_MAX_BACKOFF_MS: '1000',
  GS_COMMAND_TIMER_INTERVAL_MS: '100',
});
const tenant = 'acme';
const stopAfterAll = teardown(config);
const OFFLINE = ['offline-1', 'offline-2', 'offline-3', 'offline-4'];
const SLOW = ['slow-1', 'slow-2', 'slow-3', 'slow-4'];
let devices: TestDevices;

const FINAL_TYPES = new Set<string>([
  EventType.commandSucceeded,
  EventType.commandFailed,
  EventType.commandTimedOut,
  EventType.commandExpired,
  EventType.commandCancelled,
]);

interface LoggedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: { commandId: string; attempt?: number; attempts?: number; waitingFor?: string };
}

/** The commands topic as the processor and the API wrote it. */
async function commandsLog(): Promise<LoggedEvent[]> {
  return (await readTopic(config, 'commands')).map((letter) => ({
    id: letter.headers['ce_id'] ?? '',
    type: letter.headers['ce_type'] ?? '',
    data: JSON.parse(letter.value) as LoggedEvent['data'],
  }));
}

beforeAll(async () => {
  devices = await startTestDevices(config, (deviceId) =>
    deviceId.startsWith('slow') ? 'slow' : 'silent',
  );
  stopAfterAll(() => devices.stop());
});

describe('the command processor killed with -9 with commands in flight', () => {
  it('loses no timer and dispatches nothing twice without a recorded retry', async () => {
    const entry = fileURLToPath(import.meta.resolve('@gridstream/processor-commands'));
    const main = entry.replace(/index\.ts$/, 'main.ts');
    const env = {
      ...process.env,
      GS_KAFKA_BROKERS: config.GS_KAFKA_BROKERS.join(','),
      GS_KAFKA_CLIENT_ID: config.GS_KAFKA_CLIENT_ID,
      GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
      GS_TOPIC_PARTITIONS: String(config.GS_TOPIC_PARTITIONS),
      GS_MONGO_URL: config.GS_MONGO_URL,
      GS_MONGO_DB: config.GS_MONGO_DB,
      GS_COMMAND_ACK_TIMEOUT_MS: String(config.GS_COMMAND_ACK_TIMEOUT_MS),
      GS_COMMAND_RESULT_TIMEOUT_MS: String(config.GS_COMMAND_RESULT_TIMEOUT_MS),
      GS_COMMAND_MAX_ATTEMPTS: String(config.GS_COMMAND_MAX_ATTEMPTS),
      GS_COMMAND_RETRY_BACKOFF_MS: String(config.GS_COMMAND_RETRY_BACKOFF_MS),
      GS_COMMAND_RETRY_MAX_BACKOFF_MS: String(config.GS_COMMAND_RETRY_MAX_BACKOFF_MS),
      GS_COMMAND_TIMER_INTERVAL_MS: String(config.GS_COMMAND_TIMER_INTERVAL_MS),
    };
    const childLog: string[] = [];
    const start = (): ChildProcess => {
      const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (chunk: Buffer) => childLog.push(chunk.toString('utf8')));
      return child;
    };
    onTestFailed(() => {
      console.error(`commands processor stderr:\n${childLog.join('')}`);
    });

    // given a processor with a command in flight on each of eight devices: four offline, four
    // that acknowledge 1 s after the dispatch (so while no processor runs, within the 2 s
    // deadline) and report success 2 s later
    let child = start();
    const requestedAt = Date.now();
    const requests = [...OFFLINE, ...SLOW].map(
      (deviceId): EventOf<typeof EventType.commandRequested> => ({
        id: `request-${deviceId}`,
        type: EventType.commandRequested,
        source: 'e2e',
        subject: deviceId,
        time: new Date(requestedAt).toISOString(),
        tenant,
        data: {
          commandId: `command-${deviceId}`,
          deviceId,
          action: 'switch_off',
          parameters: {},
          priority: 'normal',
          correlationId: deviceId,
          requestedBy: 'e2e',
          expiresAt: new Date(requestedAt + 120_000).toISOString(),
        },
      }),
    );
    await devices.publisher.publish(requests);
    await eventually(
      'a dispatch to every device',
      async () =>
        requests.every((r) => devices.dispatched.some((d) => d.data.commandId === r.data.commandId))
          ? true
          : undefined,
      60_000,
    );
    // when the processor is killed with -9, and a new one starts
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const finishedBeforeKill = (await commandsLog()).filter((e) => FINAL_TYPES.has(e.type));
    child = start();
    let exitCode: number | null = null;
    let log: LoggedEvent[] = [];
    try {
      log = await eventually(
        'every command over',
        async () => {
          const events = await commandsLog();
          const over = new Set(
            events.filter((e) => FINAL_TYPES.has(e.type)).map((e) => e.data.commandId),
          );
          return requests.every((r) => over.has(r.data.commandId)) ? events : undefined;
        },
        90_000,
        500,
      );
    } finally {
      child.kill('SIGTERM');
      exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    }
    expect(exitCode).toBe(0);
    // then the kill interrupted the work: nothing was over then
    expect(finishedBeforeKill).toEqual([]);
    for (const { data } of requests) {
      const events = log.filter((e) => e.data.commandId === data.commandId);
      // each command ended once (a repeat of a step repeats its id)
      const finals = new Set(events.filter((e) => FINAL_TYPES.has(e.type)).map((e) => e.id));
      expect(finals.size, data.commandId).toBe(1);
      const final = events.find((e) => FINAL_TYPES.has(e.type));
      // no timer was lost: offline devices went through every attempt and timed out, slow
      // devices' successes were recorded
      if (OFFLINE.includes(data.deviceId))
        expect(final, data.commandId).toMatchObject({
          type: EventType.commandTimedOut,
          data: { attempts: 3, waitingFor: 'acknowledgement' },
        });
      else expect(final?.type, data.commandId).toBe(EventType.commandSucceeded);
      // attempts are 1..n, and each attempt after the first follows a recorded retry of the one
      // before; a dispatch may reach the gateway again after the kill only as the same event
      const dispatches = devices.dispatched.filter((d) => d.data.commandId === data.commandId);
      const attempts = [...new Set(dispatches.map((d) => d.data.attempt))].sort((a, b) => a - b);
      expect(attempts, data.commandId).toEqual(attempts.map((_, i) => i + 1));
      for (const attempt of attempts.filter((a) => a > 1))
        expect(
          events.some(
            (e) => e.type === EventType.commandRetryScheduled && e.data.attempt === attempt - 1,
          ),
          `${data.commandId} retry before attempt ${attempt}`,
        ).toBe(true);
      if (OFFLINE.includes(data.deviceId)) {
        expect(attempts).toEqual([1, 2, 3]);
      } else {
        // a device that acknowledged got exactly one attempt, though its acknowledgement may
        // have been read only by the new process, or after its deadline (a retry is then
        // scheduled, and dropped by the acknowledgement): every dispatch it saw is that one event
        expect(dispatches.length, data.commandId).toBeGreaterThan(0);
        expect(
          dispatches.map((d) => `${d.data.attempt}/${d.id}`),
          data.commandId,
        ).toEqual(dispatches.map(() => `1/${dispatches[0]?.id ?? ''}`));
      }
    }
  });
});
