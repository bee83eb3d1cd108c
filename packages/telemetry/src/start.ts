import { setTracingEnabled } from './state.ts';

/**
 * A process's tracing, from startTracing: shut down (spans flushed, for 5 s at most) before the
 * process exits.
 */
export interface Tracing {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Whether the environment asks for traces: an OTLP endpoint, and the SDK not disabled. */
export function tracingRequested(env: Env = process.env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return (
    endpoint !== undefined &&
    endpoint.trim() !== '' &&
    env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true'
  );
}

/** How long a stopping process waits for its last spans to be exported. */
const SHUTDOWN_TIMEOUT_MS = 5_000;

const off: Tracing = { enabled: false, shutdown: async () => undefined };

/**
 * Starts tracing for this process when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-only
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: the SDK, the OTLP/HTTP exporter and the W3C
 * propagator, registered globally. Without one nothing is loaded (the SDK is imported only
 * here, on demand) and every span helper returns at its first check. `serviceName` is the
 * resource's service.name unless OTEL_SERVICE_NAME says otherwise. Once per process (or worker
 * thread, whose globals are its own); a second call returns the first's tracing.
 */
export async function startTracing(serviceName: string, env: Env = process.env): Promise<Tracing> {
  if (!tracingRequested(env)) return off;
  started ??= import('./sdk.ts').then(({ startSdk }) => {
    const sdk = startSdk(serviceName, env);
    setTracingEnabled(true);
    return {
      enabled: true,
      async shutdown() {
        setTracingEnabled(false);
        started = undefined;
        // A collector that does not answer must not hold a stopping service past its grace period.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          sdk.shutdown().catch(() => undefined),
          new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS))),
        ]);
        clearTimeout(timer);
      },
    };
  });
  return started;
}

let started: Promise<Tracing> | undefined;
