import type { TestProject } from 'vitest/node';
import { loadConfig } from '@gridstream/config';
import { probeStack, type StackEndpoints } from './stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
  }
}

/**
 * Integration and end-to-end tests run against real servers: the local stack
 * (deploy/local, started by `./gridstream test`) by default, or containers when
 * GS_TEST_STACK=containers and a Docker engine answers. Nothing here mocks a server.
 */
export default async function setup(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  if (process.env['GS_TEST_STACK'] === 'containers') {
    const { startContainerStack } = await import('./containers.ts');
    const stack = await startContainerStack();
    project.provide('stack', stack.endpoints);
    return stack.stop;
  }
  const config = loadConfig();
  const endpoints: StackEndpoints = {
    kafkaBrokers: config.GS_KAFKA_BROKERS,
    qdbHttpUrl: config.GS_QDB_HTTP_URL,
    qdbPgHost: config.GS_QDB_PG_HOST,
    qdbPgPort: config.GS_QDB_PG_PORT,
    mongoUrl: config.GS_MONGO_URL,
  };
  const missing = await probeStack(endpoints);
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
