export { GridstreamClient } from './client.ts';
export type {
  DeviceQuery,
  EnergyQuery,
  GridstreamClientOptions,
  IngestOptions,
  IngestResult,
  Instant,
  RangeQuery,
  ReadingsQuery,
  RequestOptions,
  SiteQuery,
} from './client.ts';
export {
  API_ERROR_CODES,
  ApiErrorBody,
  GridstreamApiError,
  GridstreamClientError,
  GridstreamInvalidReadingsError,
  GridstreamNetworkError,
  GridstreamResponseError,
} from './errors.ts';
export type { ApiErrorCode, ApiIssue } from './errors.ts';
export { MAX_READINGS_PER_REQUEST, ReadingBatch, ReadingInput } from './reading-input.ts';
export {
  Device,
  DeviceEnergy,
  DevicePage,
  DeviceReadings,
  DeviceSummary,
  ReadingsAccepted,
  Site,
  SiteDay,
  SiteEnergy,
  SitePage,
} from './responses.ts';
export { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelayMs } from './retry.ts';
export type { AttemptFailure, RetryPolicy } from './retry.ts';
