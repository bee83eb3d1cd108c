import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/*
 * patches/kafkajs@2.2.4.patch, logging in (SCRAM, PLAIN) to a node that goes away mid-login: a
 * node killed or frozen just as it came back closes or never answers the connection being
 * authenticated. kafkajs made every failure there a KafkaJSSASLAuthenticationError, which is
 * not retriable: the kafka-coordinator e2e run saw a consumer crash on "SASL SCRAM SHA512
 * authentication failed: Closed connection" after a thaw. A lost connection stays the
 * retriable error it is; a refused login is still a SASL failure.
 */

const require = createRequire(import.meta.url);

interface Authenticator {
  authenticate(): Promise<void>;
}
type Provider = (sasl: {
  username: string;
  password: string;
}) => (options: {
  host: string;
  port: number;
  logger: { debug(): void; error(): void };
  saslAuthenticate: () => Promise<unknown>;
}) => Authenticator;
const scram512 = require('kafkajs/src/broker/saslAuthenticator/scram512.js') as Provider;
const plain = require('kafkajs/src/broker/saslAuthenticator/plain.js') as Provider;
const { KafkaJSConnectionClosedError, KafkaJSRequestTimeoutError } = require('kafkajs') as {
  KafkaJSConnectionClosedError: new (message: string) => Error & { retriable: boolean };
  KafkaJSRequestTimeoutError: new (message: string) => Error & { retriable: boolean };
};

const logger = { debug: () => undefined, error: () => undefined };
const login = { username: 'gridstream', password: 'secret' };

function authenticator(provider: Provider, failure: Error): Authenticator {
  return provider(login)({
    host: '127.0.0.1',
    port: 9092,
    logger,
    saslAuthenticate: () => Promise.reject(failure),
  });
}

describe('kafkajs logging in to a node that goes away', () => {
  for (const [mechanism, provider] of [
    ['SCRAM-SHA-512', scram512],
    ['PLAIN', plain],
  ] as const) {
    it(`${mechanism}: a connection closed mid-login stays a retriable connection error`, async () => {
      const error = await authenticator(
        provider,
        new KafkaJSConnectionClosedError('Closed connection'),
      )
        .authenticate()
        .catch((e: unknown) => e as Error & { retriable: boolean });
      expect(error).toMatchObject({ name: 'KafkaJSConnectionClosedError', retriable: true });
    });

    it(`${mechanism}: a login never answered stays a retriable timeout`, async () => {
      const error = await authenticator(
        provider,
        new KafkaJSRequestTimeoutError('Request timed out'),
      )
        .authenticate()
        .catch((e: unknown) => e as Error & { retriable: boolean });
      expect(error).toMatchObject({ name: 'KafkaJSRequestTimeoutError', retriable: true });
    });

    it(`${mechanism}: a refused login is still a SASL failure, not retried`, async () => {
      const error = await authenticator(provider, new Error('Authentication failed'))
        .authenticate()
        .catch((e: unknown) => e as Error & { retriable: boolean });
      expect(error).toMatchObject({ name: 'KafkaJSSASLAuthenticationError', retriable: false });
    });
  }
});
