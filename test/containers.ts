import { GenericContainer, Wait } from 'testcontainers';
import type { StartedTestContainer } from 'testcontainers';
import type { StackEndpoints } from './stack.ts';

/**
 * The same servers as deploy/local, from their official images, for machines with a Docker
 * engine (GS_TEST_STACK=containers). Versions follow deploy/local.
 */
export async function startContainerStack(): Promise<{
  endpoints: StackEndpoints;
  stop: () => Promise<void>;
}> {
  const kafkaPort = 9092;
  const kafka = await new GenericContainer('apache/kafka:4.1.2')
    .withExposedPorts({ container: kafkaPort, host: 39092 })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `PLAINTEXT://:${kafkaPort},CONTROLLER://:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:39092`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const questdb = await new GenericContainer('questdb/questdb:9.3.4')
    .withExposedPorts(9000, 8812)
    .withEnvironment({ QDB_TELEMETRY_ENABLED: 'false' })
    .withWaitStrategy(Wait.forHttp('/exec?query=SELECT%201', 9000))
    .start();
  const mongo = await new GenericContainer('mongo:7.0').withExposedPorts(27017).start();
  const containers: StartedTestContainer[] = [kafka, questdb, mongo];
  return {
    endpoints: {
      kafkaBrokers: ['127.0.0.1:39092'],
      qdbHttpUrl: `http://${questdb.getHost()}:${questdb.getMappedPort(9000)}`,
      qdbPgHost: questdb.getHost(),
      qdbPgPort: questdb.getMappedPort(8812),
      mongoUrl: `mongodb://${mongo.getHost()}:${mongo.getMappedPort(27017)}/`,
      // The images run without logins: a GS_HOME without secrets, so no client sends one.
      loginEnv: { GS_HOME: '/nonexistent/gridstream-containers' },
    },
    stop: async () => {
      await Promise.all(containers.map((c) => c.stop()));
    },
  };
}
