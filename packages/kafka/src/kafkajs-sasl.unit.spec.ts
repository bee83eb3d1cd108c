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

/** What logging in throws when the exchange fails with `failure`. */
function failureOf(provider: Provider, failure: Error) {
  return authenticator(provider, failure)
    .authenticate()
    .then(
      () => undefined,
      (e: unknown) => e as Error & { retriable: boolean },
    );
}

describe('kafkajs logging in to a node that goes away', () => {
  const cases = [
    [
      'a connection closed mid-login stays a retriable connection error',
      () => new KafkaJSConnectionClosedError('Closed connection'),
      'KafkaJSConnectionClosedError',
      true,
    ],
    [
      'a login never answered stays a retriable timeout',
      () => new KafkaJSRequestTimeoutError('Request timed out'),
      'KafkaJSRequestTimeoutError',
      true,
    ],
    [
      'a refused login is still a SASL failure, not retried',
      () => new Error('Authentication failed'),
      'KafkaJSSASLAuthenticationError',
      false,
    ],
  ] as const;
  for (const [mechanism, provider] of [
    ['SCRAM-SHA-512', scram512],
    ['PLAIN', plain],
  ] as const) {
    for (const [what, failure, name, retriable] of cases) {
      it(`${mechanism}: ${what}`, async () => {
        expect(await failureOf(provider, failure())).toMatchObject({ name, retriable });
      });
    }
  }
});
