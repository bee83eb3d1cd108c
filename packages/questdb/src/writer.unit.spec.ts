import { describe, expect, it } from 'vitest';
import { GridstreamError, isPoison, isRetriable } from '@gridstream/errors';
import { ilpFlushError } from './writer.ts';

const failed = (status: number) =>
  new Error(`HTTP request failed, statusCode=${status}, error={"code":"invalid"}`);

describe('ilpFlushError', () => {
  it('makes QuestDB refusing the rows a failure of the data, which the consumer isolates', () => {
    const error = ilpFlushError(failed(400));
    expect(error).toBeInstanceOf(GridstreamError);
    expect(isPoison(error)).toBe(true);
    expect(isRetriable(error)).toBe(false);
  });

  it('makes a server error or an unauthorised write an outage, retried with backoff', () => {
    for (const status of [500, 503, 401]) {
      const error = ilpFlushError(failed(status));
      expect(isRetriable(error), String(status)).toBe(true);
      expect(isPoison(error), String(status)).toBe(false);
    }
  });

  it('makes no answer in time (a frozen server) an outage, not a count against the attempt limit', () => {
    // the client's own words when QuestDB took the request but never answered
    const error = ilpFlushError(new Error('HTTP request timeout, no response from server in time'));
    expect(isRetriable(error)).toBe(true);
    expect(isPoison(error)).toBe(false);
  });

  it('leaves an error without a status as it is', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(ilpFlushError(refused)).toBe(refused);
    expect(isRetriable(ilpFlushError(refused))).toBe(true);
  });
});
