import type { z } from 'zod';

export interface FieldIssue {
  /** Dotted path to the field, e.g. `readings.3.powerW`; empty for the whole value. */
  readonly path: string;
  readonly message: string;
}

export function toFieldIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): FieldIssue[] {
  return issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.'),
    message: issue.message,
  }));
}

/** One line, for logs and DLQ headers. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return toFieldIssues(issues)
    .map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`))
    .join('; ');
}
