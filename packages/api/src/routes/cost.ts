import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { localDate } from '@gridstream/energy-core';
import { EntityId } from '@gridstream/events';
import { GridstreamError } from '@gridstream/errors';
import { findSite } from '@gridstream/projection-devices';
import type { SiteView } from '@gridstream/projection-devices';
import { tenantOf } from '../auth/authenticate.ts';
import type { ApiDependencies } from '../dependencies.ts';
import {
  COST_RESOLUTIONS,
  MAX_COST_RANGE_DAYS,
  calendarBuckets,
  costRange,
  localDateStartMs,
  nextMonthStart,
} from './cost-calendar.ts';
import {
  calendarSpan,
  datesWithoutData,
  daySpans,
  presentSpan,
  quarterHourSpans,
} from './cost-buckets.ts';
import type { CostSpan } from './cost-buckets.ts';
import { CostFigures } from './cost-figures.ts';
import { wantsCsv } from './cost-negotiation.ts';
import { StatementMonth, StatementResponse, statementCsv, statementOf } from './cost-statement.ts';

/** A local calendar date from 2000 to 2099 (the pattern), that exists (checked besides). */
export const LocalDate = z
  .string()
  .regex(/^20\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'a date, YYYY-MM-DD, 2000 to 2099')
  // zod runs this after a failed pattern too: text that is no date at all must not throw here
  .refine(
    (date) => {
      const ms = Date.parse(`${date}T00:00:00Z`);
      return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(date);
    },
    { message: 'a date that exists' },
  );

const CostQuery = z.object({
  resolution: z
    .enum(COST_RESOLUTIONS)
    .default('day')
    .describe(
      "UTC quarter hours (each day's fee in the one at its local midnight), or the site's local days, months or years (the range is widened to whole months or years)",
    ),
  from: LocalDate.optional().describe(
    `first local day (inclusive); default today (quarter-hour), the 1st of the month (day), 1 January (month) or 1 January two years back (year) of the day before \`to\`; at most ${MAX_COST_RANGE_DAYS['quarter-hour']} (quarter-hour), ${MAX_COST_RANGE_DAYS.day} (day), ${MAX_COST_RANGE_DAYS.month} (month) or ${MAX_COST_RANGE_DAYS.year} (year) days before \`to\` (else 400)`,
  ),
  to: LocalDate.optional().describe(
    "local day after the last one (exclusive); default tomorrow in the site's time zone, so today is in",
  ),
});

const CostBucket = z.object({
  start: z.string().describe('UTC, ISO 8601'),
  end: z.string().describe('UTC, exclusive'),
  localStart: z.string().describe("on the site's clock, with its offset (RFC 3339)"),
  localEnd: z.string(),
  localDate: z.string().describe('the local date of the start'),
  ...CostFigures.shape,
});

const CostResponse = z.object({
  siteId: z.string(),
  timeZone: z.string().describe("the site's: its local days, months and years"),
  resolution: z.enum(COST_RESOLUTIONS),
  from: z.string().describe('first local day read'),
  to: z.string().describe('local day after the last one read (exclusive)'),
  start: z.string().describe('UTC instant of `from`'),
  end: z.string().describe('UTC instant of `to`'),
  daysWithoutData: z
    .array(z.string())
    .describe(
      'local days of the range up to today without energy data (one between two days with energy still pays its fee)',
    ),
  buckets: z
    .array(CostBucket)
    .describe('the buckets with data, in time order; a bucket without any is left out'),
});

const StatementJsonSchema = (() => {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(StatementResponse, {
    target: 'draft-2020-12',
  });
  return schema;
})();

/**
 * The statement's answer in the document: JSON, or CSV with `Accept: text/csv` or
 * `?format=csv`. The serializer validates the JSON form; the CSV is text (a string, sent as
 * it is), hence the union.
 */
const StatementAnswer = z.union([StatementResponse, z.string()]).meta({
  description: 'the statement, as JSON or as CSV',
  content: {
    'application/json': { schema: StatementJsonSchema },
    'text/csv': {
      schema: {
        type: 'string',
        description:
          'one header row (section,item,kwh,amount,amount_exact,vat_rate,vat,vat_exact,emissions_g,emissions_g_exact,currency), then a row per figure (docs/cost.md)',
      },
    },
  },
});

const StatementQuery = z.object({
  format: z
    .enum(['json', 'csv'])
    .optional()
    .describe('json or csv; without it, the Accept header chooses (default JSON)'),
});

/** A site's cost, earnings and emissions, and its monthly statement (processors/cost's days). */
export const costRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  /** The tenant's site, or 404: another tenant's site is not found. */
  const siteOf = async (tenant: string, siteId: string): Promise<SiteView> => {
    const site = await findSite(await deps.sites.collection(), tenant, siteId);
    if (site === undefined) throw new GridstreamError('NOT_FOUND', `no site ${siteId}`);
    return site;
  };

  app.get(
    '/v1/sites/:id/cost',
    {
      config: { scope: 'read' },
      schema: {
        params: z.object({ id: EntityId }),
        querystring: CostQuery,
        response: { 200: CostResponse },
      },
    },
    async (request) => {
      const tenant = tenantOf(request);
      const { id } = request.params;
      const { resolution } = request.query;
      const site = await siteOf(tenant, id);
      const { timeZone } = site;
      const today = localDate(deps.now().getTime(), timeZone);
      const range = costRange(request.query, resolution, today);
      const read = (dates: typeof range, quarters: boolean) =>
        deps.siteCostDays.between(tenant, id, dates, { quarters });
      const spans: CostSpan[] = [];
      const dates = new Set<string>();
      if (resolution === 'quarter-hour' || resolution === 'day') {
        const days = await read(range, resolution === 'quarter-hour');
        for (const day of days) if (day.totals.quarterHours > 0) dates.add(day.date);
        spans.push(...(resolution === 'day' ? daySpans(days) : quarterHourSpans(days)));
      } else {
        // One month or year at a time: only one bucket's quarter hours are held at once.
        for (const bucket of calendarBuckets(range, resolution, timeZone)) {
          const days = await read(bucket, true);
          for (const day of days) if (day.totals.quarterHours > 0) dates.add(day.date);
          const span = calendarSpan(bucket, days);
          if (span !== undefined) spans.push(span);
        }
      }
      return {
        siteId: id,
        timeZone,
        resolution,
        from: range.fromDate,
        to: range.toDate,
        start: new Date(localDateStartMs(range.fromDate, timeZone)).toISOString(),
        end: new Date(localDateStartMs(range.toDate, timeZone)).toISOString(),
        daysWithoutData: datesWithoutData(range, today, dates),
        buckets: spans.map((span) => presentSpan(span, timeZone)),
      };
    },
  );

  app.get(
    '/v1/sites/:id/statements/:month',
    {
      config: { scope: 'read' },
      schema: {
        params: z.object({ id: EntityId, month: StatementMonth }),
        querystring: StatementQuery,
        produces: ['application/json', 'text/csv'],
        response: { 200: StatementAnswer },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const { id, month } = request.params;
      const site = await siteOf(tenant, id);
      const today = localDate(deps.now().getTime(), site.timeZone);
      const first = `${month}-01`;
      const days = await deps.siteCostDays.between(
        tenant,
        id,
        { fromDate: first, toDate: nextMonthStart(first) },
        { quarters: true },
      );
      const statement = statementOf(site, month, days, today);
      if (!wantsCsv(request.query.format, request.headers.accept)) return statement;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${id}-${month}.csv"`)
        .send(statementCsv(statement));
    },
  );
};
