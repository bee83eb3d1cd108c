/**
 * The entry of a rebuild part's worker thread (startBuildParts). A part's thread loads the
 * Kafka, MongoDB and zod code again, which took each part about 220 ms of a rebuild of a few
 * seconds; with Node's on-disk compile cache (in the OS temp directory) it takes about 120 ms.
 * The cache must be on before the part's modules load, hence this module.
 */
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./build-part-worker.ts');
