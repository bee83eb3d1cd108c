/**
 * Whether a statement is wanted as CSV: `?format=` decides when given; else the Accept header,
 * by its quality values (RFC 9110 §12.5.1: the most specific range matching a type gives its
 * q), CSV only when it is preferred to JSON. Anything else, no header included, is JSON.
 */
export function wantsCsv(format: 'json' | 'csv' | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  if (accept === undefined) return false;
  const ranges = accept.split(',').map((range) => {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = parameters.find((p) => p.startsWith('q='));
    return { type, q: q === undefined ? 1 : Number(q.slice(2)) };
  });
  const qualityOf = (mediaType: string): number => {
    const [main = ''] = mediaType.split('/');
    for (const candidate of [mediaType, `${main}/*`, '*/*']) {
      const match = ranges.find((r) => r.type === candidate && Number.isFinite(r.q));
      if (match !== undefined) return match.q;
    }
    return 0;
  };
  const csv = qualityOf('text/csv');
  return csv > 0 && csv > qualityOf('application/json');
}
