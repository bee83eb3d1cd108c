// @ts-check
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      // built packages (@gridstream/client): checked as sources, not as the bundle
      '**/dist/**',
      '.gridstream/**',
      'deploy/**',
      'coverage/**',
      'test-artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      // An unawaited promise in a Kafka handler loses data.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Fastify plugins and route handlers are async by contract, await or not.
      '@typescript-eslint/require-await': 'off',
      'import-x/no-cycle': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          varsIgnorePattern: '^_',
          argsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      'import-x/no-self-import': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@gridstream/*/src/*', '@gridstream/*/src'],
              message: 'Import a workspace package through its entry point, not a deep path.',
            },
            {
              group: ['../../packages/*', '../../processors/*', '../../projections/*'],
              message: 'Depend on another workspace package by name (workspace:*), not by path.',
            },
          ],
        },
      ],
    },
  },
  {
    // The event catalogue is pure: no Node APIs, no clients, nothing but zod.
    files: ['packages/events/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', '@gridstream/*', 'kafkajs', 'mongodb', 'pg', '@questdb/*'],
              message: 'packages/events depends on zod only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The cost rules are pure (docs/cost.md): no I/O, no clock, no randomness; time and every
    // input come in as arguments, so replay gives what live gave.
    files: ['packages/cost-core/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'kafkajs', 'mongodb', 'pg', '@questdb/*', '@gridstream/*/src*'],
              message:
                'packages/cost-core is pure: zod, big.js, @gridstream/events and @gridstream/energy-core only.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Time comes in as an argument.' },
        { object: 'Math', property: 'random', message: 'Ids come in as arguments.' },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The dashboard's scripts run in the browser (type-checked by their own tsconfig.json).
    files: ['packages/api/src/dashboard/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'document',
          'location',
          'history',
          'sessionStorage',
          'fetch',
          'setTimeout',
          'URLSearchParams',
          'AbortController',
          'TextDecoderStream',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
