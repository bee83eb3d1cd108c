import type { TestProject } from 'vitest/node';
import { loadConfig } from '@gridstream/config';
import { loginEnvOf, probeStack, type StackEndpoints } from './stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
  }
}

/**
 * Integration and end-to-end tests run against real servers, never mocks:
 * - GS_TEST_STACK=local: the local stack (deploy/local, started by `./gridstream test`);
 * - GS_TEST_STACK=containers: the official images through testcontainers (needs a Docker engine);
 * - unset: the local stack when it answers, else containers when a Docker engine answers.
 */
export default async function setup(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  const mode = process.env['GS_TEST_STACK'] ?? 'auto';
  if (mode === 'containers') return useContainers(project);
  const config = loadConfig();
  const endpoints: StackEndpoints = {
    kafkaBrokers: config.GS_KAFKA_BROKERS,
    qdbHttpUrl: config.GS_QDB_HTTP_URL,
    qdbPgHost: config.GS_QDB_PG_HOST,
    qdbPgPort: config.GS_QDB_PG_PORT,
    mongoUrl: config.GS_MONGO_URL,
    loginEnv: loginEnvOf(process.env),
  };
  const kafkaPassword = config.GS_KAFKA_SASL_PASSWORD;
  const qdbPassword = config.GS_QDB_HTTP_PASSWORD;
  const mongoPassword = config.GS_MONGO_PASSWORD;
  const missing = await probeStack(endpoints, {
    kafka:
      kafkaPassword === undefined
        ? undefined
        : {
            mechanism: 'scram-sha-512',
            username: config.GS_KAFKA_SASL_USERNAME,
            password: kafkaPassword,
          },
    questdb:
      qdbPassword === undefined
        ? undefined
        : { user: config.GS_QDB_HTTP_USER, password: qdbPassword },
    mongo:
      mongoPassword === undefined
        ? undefined
        : {
            username: config.GS_MONGO_USERNAME,
            password: mongoPassword,
            authSource: config.GS_MONGO_AUTH_SOURCE,
          },
  });
  if (missing.length > 0 && mode === 'auto' && (await dockerEngineAnswers()))
    return useContainers(project);
  if (missing.length > 0) {
    throw new Error(
      `integration tests need the real servers, and these did not answer:\n${missing.map((m) => `  - ${m}`).join('\n')}\n` +
        'Start them with `./gridstream stack start` (or run `./gridstream test`, which does), ' +
        'or set GS_TEST_STACK=containers where a Docker engine is available.',
    );
  }
  project.provide('stack', endpoints);
  return undefined;
}

async function useContainers(project: TestProject): Promise<() => Promise<void>> {
  const { startContainerStack } = await import('./containers.ts');
  const stack = await startContainerStack();
  project.provide('stack', stack.endpoints);
  return stack.stop;
}

async function dockerEngineAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}
