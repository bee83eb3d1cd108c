import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';

/** Where the dashboard page is served; `gridstream up` prints it with a read key in the fragment. */
export const DASHBOARD_PATH = '/dashboard';

/** The page's files, read once at start: a page this small needs no static-file plugin. */
const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'live.js': 'text/javascript; charset=utf-8',
  'history.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
} as const;

/**
 * Only this origin's scripts, styles and API; no inline script, no frames. The API key lives in
 * the page's sessionStorage, so nothing else may run in it.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The dashboard: a public page (no key is needed to load it) that reads the /v1 API with the key
 * the user gives it, so it can show nothing the key may not read.
 */
export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  const files = await Promise.all(
    Object.entries(FILES).map(async ([name, type]) => ({
      url: name === 'index.html' ? DASHBOARD_PATH : `${DASHBOARD_PATH}/${name}`,
      type,
      body: await readFile(new URL(`./${name}`, import.meta.url)),
    })),
  );
  for (const file of files) {
    app.get(file.url, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type(file.type)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .send(file.body),
    );
  }
};
