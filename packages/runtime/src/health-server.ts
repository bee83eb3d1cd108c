import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** A service's own health and metrics port (GS_HEALTH_PORT), for probes and Prometheus. */
export interface HealthServer {
  readonly port: number;
  /** Ready once the service has started (its consumers run); not ready again while it stops. */
  setReady(ready: boolean): void;
  close(): Promise<void>;
}

/**
 * Serves `/healthz` (200 while the process lives: a liveness probe), `/readyz` (200 once the
 * service has started, else 503: a readiness probe) and `/metrics` (Prometheus text: the
 * process's own metrics, its memory among them, and `gridstream_service_ready`), labelled with
 * the service's name. Kubernetes probes and a Prometheus scrape use it the same way.
 */
export async function startHealthServer(
  service: string,
  port: number,
  host: string,
): Promise<HealthServer> {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  /** Named in metrics.ts's style: a gauge per service, 1 when ready. */
  const readyGauge = new Gauge({
    name: 'gridstream_service_ready',
    help: 'Whether the service has started and is consuming (1) or not (0).',
    registers: [registry],
  });
  let ready = false;
  readyGauge.set(0);
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (path === '/healthz') json(200, { status: 'alive', service });
    else if (path === '/readyz')
      json(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', service });
    else if (path === '/metrics')
      registry.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': registry.contentType });
          response.end(text);
        },
        (error: unknown) => {
          json(500, { error: String(error) });
        },
      );
    else json(404, { error: `no route ${path}` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    setReady(next) {
      ready = next;
      readyGauge.set(next ? 1 : 0);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
