import { describe, expect, it } from 'vitest';
import { startHealthServer } from './health-server.ts';

describe('a service health port', () => {
  it('is alive at once, ready once started, and serves its memory and readiness to Prometheus', async () => {
    // given the health port of a service that is still starting
    const health = await startHealthServer('energy processor', 0, '127.0.0.1');
    const base = `http://127.0.0.1:${health.port}`;
    try {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      // when it has started
      health.setReady(true);
      // then it is ready, and its metrics say so, with the process's memory, by service
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', service: 'energy processor' });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('gridstream_service_ready{service="energy processor"} 1');
      expect(metrics).toMatch(/process_resident_memory_bytes\{service="energy processor"\} \d+/);
      expect((await fetch(`${base}/nothing`)).status).toBe(404);
    } finally {
      await health.close();
    }
  });
});
