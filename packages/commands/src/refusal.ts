import type { ErrorCode, FieldIssue } from '@gridstream/errors';
import { GridstreamError } from '@gridstream/errors';

/** Why a decide function said no: an error code (HTTP status), a stable reason, the fields at fault. */
export interface Refusal {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly message: string;
  readonly issues?: readonly FieldIssue[];
}

export function refusalError(refusal: Refusal): GridstreamError {
  return new GridstreamError(refusal.code, refusal.message, {
    reason: refusal.reason,
    ...(refusal.issues === undefined ? {} : { issues: refusal.issues }),
  });
}
