import { describe, expect, it } from 'vitest';
import { kafkaSettings } from './client.ts';
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
