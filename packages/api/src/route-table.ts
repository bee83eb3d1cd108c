/**
 * The methods each registered path takes, so a request for a known path with another method is
 * told 405 and `allow`, not 404. Paths are Fastify's (`/v1/devices/:id`); a parameter matches
 * one segment, a wildcard the rest. Where several match, the one with the most fixed segments
 * names the resource (`/v1/devices/batch`, not `/v1/devices/:id`), as the document does.
 */
export class RouteTable {
  readonly #routes: {
    readonly pattern: RegExp;
    readonly fixedSegments: number;
    readonly methods: Set<string>;
  }[] = [];
  readonly #byUrl = new Map<string, Set<string>>();

  add(method: string | readonly string[], url: string): void {
    let methods = this.#byUrl.get(url);
    if (methods === undefined) {
      methods = new Set();
      this.#byUrl.set(url, methods);
      this.#routes.push({ pattern: patternOf(url), fixedSegments: fixedSegments(url), methods });
    }
    for (const m of typeof method === 'string' ? [method] : method) methods.add(m.toUpperCase());
    // Fastify answers HEAD for every GET (exposeHeadRoutes)
    if (methods.has('GET')) methods.add('HEAD');
  }

  /** Every method some route of this path takes, in a stable order; none for an unknown path. */
  methodsOf(path: string): string[] {
    const matching = this.#routes.filter((route) => route.pattern.test(path));
    const most = Math.max(...matching.map((route) => route.fixedSegments));
    const methods = new Set<string>();
    for (const route of matching)
      if (route.fixedSegments === most) for (const m of route.methods) methods.add(m);
    return [...methods].sort();
  }
}

function patternOf(url: string): RegExp {
  const segments = url.split('/').map((segment) => {
    if (segment === '*') return '.*';
    if (segment.startsWith(':')) return '[^/]+';
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${segments.join('/')}$`);
}

const fixedSegments = (url: string) =>
  url.split('/').filter((segment) => segment !== '*' && !segment.startsWith(':')).length;
