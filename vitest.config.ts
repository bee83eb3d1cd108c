import { defineConfig } from 'vitest/config';

const sources = ['packages', 'processors', 'projections'].map((dir) => `${dir}/*/src/**/`);

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: sources.map((s) => `${s}*.unit.spec.ts`),
        },
      },
      {
        test: {
          name: 'int',
          include: sources.map((s) => `${s}*.int.spec.ts`),
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Two files at a time (vitest's default on 2 cores is one): most of an integration
          // test's time is waiting on the servers, and every file names its own topics, groups
          // and tables. 145 tests took 292 s so against about 565 s one at a time.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'e2e',
          include: sources.map((s) => `${s}*.e2e.spec.ts`),
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
