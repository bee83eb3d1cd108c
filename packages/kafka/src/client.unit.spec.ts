import { describe, expect, it, vi } from 'vitest';
import { createKafka, kafkaSettings } from './client.ts';
import type { KafkaConfig } from './client.ts';

const base: KafkaConfig = {
  GS_KAFKA_BROKERS: ['127.0.0.1:9092'],
  GS_KAFKA_SASL_USERNAME: 'gridstream',
  GS_KAFKA_TLS: false,
};

describe('kafkaSettings', () => {
  it('logs in with SCRAM-SHA-512 by default once there is a password', () => {
    expect(kafkaSettings({ ...base, GS_KAFKA_SASL_PASSWORD: 'pw' }, 'c')).toEqual({
      brokers: ['127.0.0.1:9092'],
      clientId: 'c',
      sasl: { mechanism: 'scram-sha-512', username: 'gridstream', password: 'pw' },
      tls: undefined,
      logLevel: undefined,
    });
  });

  it('connects anonymously without a password', () => {
    expect(kafkaSettings(base, 'c').sasl).toBeUndefined();
  });

  it('takes the mechanism asked for', () => {
    const settings = kafkaSettings(
      { ...base, GS_KAFKA_SASL_PASSWORD: 'pw', GS_KAFKA_SASL_MECHANISM: 'plain' },
      'c',
    );
    expect(settings.sasl?.mechanism).toBe('plain');
  });

  it('refuses a mechanism without a password rather than connecting anonymously', () => {
    expect(() => kafkaSettings({ ...base, GS_KAFKA_SASL_MECHANISM: 'scram-sha-256' }, 'c')).toThrow(
      /GS_KAFKA_SASL_PASSWORD/,
    );
  });

  it('turns TLS on with the system CAs unless a CA file is named', () => {
    expect(kafkaSettings({ ...base, GS_KAFKA_TLS: true }, 'c').tls).toEqual({ ca: undefined });
  });
});

describe('kafkajs logging (GS_KAFKA_LOG_LEVEL)', () => {
  /** What the client writes to stderr for one entry of each level. */
  function linesAt(level: KafkaConfig['GS_KAFKA_LOG_LEVEL']): Record<string, unknown>[] {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const logger = createKafka(
        kafkaSettings({ ...base, GS_KAFKA_LOG_LEVEL: level }, 'c'),
      ).logger();
      logger.error('an error', { groupId: 'g', memberId: 'm' });
      logger.warn('a warning');
      logger.info('an info');
      logger.debug('a debug');
    } finally {
      spy.mockRestore();
    }
    return written.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('writes warnings and errors by default', () => {
    expect(linesAt(undefined).map((l) => l.severity)).toEqual(['error', 'warn']);
  });

  it('writes every level at debug, each with its severity and the member it is about', () => {
    const lines = linesAt('debug');
    expect(lines.map((l) => l.severity)).toEqual(['error', 'warn', 'info', 'debug']);
    expect(lines[0]).toMatchObject({ msg: 'an error', groupId: 'g', memberId: 'm' });
  });
});
