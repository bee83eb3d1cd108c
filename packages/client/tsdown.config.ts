import { defineConfig } from 'tsdown';

/**
 * Two entries, ESM with .d.ts beside them. @gridstream/events is a devDependency and private,
 * so its schemas are bundled into dist (JavaScript and types alike); zod and kafkajs stay
 * imports, installed by the consumer.
 */
export default defineConfig({
  entry: { index: 'src/index.ts', kafka: 'src/kafka.ts' },
  format: 'esm',
  platform: 'node',
  target: 'node22',
  outDir: 'dist',
  clean: true,
  dts: true,
  deps: { alwaysBundle: ['@gridstream/events'] },
  fixedExtension: false,
});
