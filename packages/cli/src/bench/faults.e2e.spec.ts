import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { faultCounts } from './faults.ts';
import type { FaultsResult } from './faults.ts';
import { POISON_CLASSES } from './faults-poison.ts';
import { SERVICES } from '../services.ts';

/** Each run's budget, and the test's: time for the bench to stop its stack after a SIGTERM. */
const BENCH_BUDGET_MS = 630_000;
const TEST_TIMEOUT_MS = BENCH_BUDGET_MS + 60_000;
const CLI = fileURLToPath(new URL('../main.ts', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'faults-e2e-'));

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Runs `gridstream bench faults` with the arguments; its closing line, figures and exit code.
 * Its output is passed on as it comes, so a run that hangs says in CI's log where it was. A run
 * still going `budgetMs` after its start gets SIGTERM (the bench then stops its services and its
 * own stack), so it ends before the test's timeout instead of running on into the next test.
 */
async function runFaults(args: readonly string[], name: string, budgetMs: number) {
  const json = join(dir, `${name}.json`);
  const child = spawn(process.execPath, [CLI, 'bench', 'faults', ...args, '--json', json], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    process.stdout.write(chunk);
  });
  // Kept (its end) so a bench that stops with an error says which one.
  child.stderr.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString('utf8')).slice(-20_000);
  });
  let overran = false;
  const timer = setTimeout(() => {
    overran = true;
    process.stdout.write(`\nthe bench still runs after ${budgetMs / 1000} s: SIGTERM\n`);
    child.kill('SIGTERM');
  }, budgetMs);
  // 'close': the exit, and every byte of its output read
  await once(child, 'close');
  clearTimeout(timer);
  if (errors !== '') process.stdout.write(`stderr of the bench (its end):\n${errors}\n`);
  expect(overran, `the bench ran past its ${budgetMs / 1000} s (its output above says where)`).toBe(
    false,
  );
  const lines = output.trimEnd().split('\n');
  expect(lines.at(-1)).toMatch(
    /^faults: \d+ injected, \d+ readings accepted, \d+ lost, \d+ duplicated, \d+ energy mismatches, \d+ projection mismatches, \d+ API 5xx other than 503$/,
  );
  return {
    result: JSON.parse(await readFile(json, 'utf8')) as FaultsResult,
    exitCode: child.exitCode,
  };
}

/** Every count that must be 0 is 0. */
function expectNothingWrong(result: FaultsResult) {
  expect(Object.fromEntries(faultCounts(result))).toEqual(
    Object.fromEntries(faultCounts(result).map(([name]) => [name, 0])),
  );
}

/**
 * The short fault suite, `gridstream bench faults --short`: one of each fault under load, on a
 * stack of its own (a temporary GS_HOME on free ports, so the stack this suite runs against is
 * never stopped or frozen), two instances of every service. Any reading lost or doubled, any
 * energy or projection mismatch, any API 5xx but 503, any poison letter missing or doubled, any
 * other letter, any service over its memory bound fails it.
 */
describe('gridstream bench faults --short', () => {
  it(
    'loses, doubles and miscounts nothing through one of each fault',
    async () => {
      const { result, exitCode } = await runFaults(['--short'], 'one-broker', BENCH_BUDGET_MS);
      // Every fault happened: a kill of each service, each server out twice, scale out and in,
      // every class of poison.
      expect(result.faultsByKind['kill -9']).toBeGreaterThanOrEqual(SERVICES.length);
      expect(result.faultsByKind['outage (stop)']).toBe(3);
      expect(result.faultsByKind['outage (SIGSTOP)']).toBe(3);
      expect(result.faultsByKind['instance added']).toBe(1);
      expect(result.faultsByKind['instance removed']).toBe(1);
      expect(result.faultsByKind['poison message']).toBeGreaterThanOrEqual(POISON_CLASSES.length);
      expect(result.accepted).toBeGreaterThan(5_000);
      expectNothingWrong(result);
      expect(exitCode).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});

/**
 * The same on a three-node Kafka cluster whose only faults are two nodes killed with -9, one at
 * a time, under load (`--kafka-brokers 3 --broker-faults-only`): every reading answered 202 is in
 * QuestDB once, and the services carry on from the new leaders.
 */
describe('gridstream bench faults --short --kafka-brokers 3 --broker-faults-only', () => {
  it(
    'loses nothing answered 202 when Kafka nodes are killed under load',
    async () => {
      const { result, exitCode } = await runFaults(
        ['--short', '--kafka-brokers', '3', '--broker-faults-only'],
        'cluster',
        BENCH_BUDGET_MS,
      );
      // topics with three replicas of which two must have every write acknowledged
      expect(result.replication).toEqual({ factor: 3, minInsyncReplicas: 2 });
      expect(result.faultsByKind['broker kill -9']).toBe(2);
      expect(result.faultsByKind['kill -9']).toBeUndefined();
      expect(result.accepted).toBeGreaterThan(5_000);
      expect(result.crashes).toBe(0);
      expectNothingWrong(result);
      expect(exitCode).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
