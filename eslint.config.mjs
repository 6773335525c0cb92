// Type-checked lint over the whole project. The domain boundary rule keeps
// src/domain pure: no database, broker, Redis or clock there (pass `now` in).
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'coverage/',
      'node_modules/',
      '.services/',
      '.tools/',
      'infra/kafka/target/',
      'infra/registry/target/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // No import circles between the worker's files (test/unit/layout.test.ts
    // checks the folders): dependencies point down.
    files: ['src/**/*.ts', 'consumers/**/*.ts', 'migrations/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
      // The files it follows are TypeScript: parse them as such, or it sees no imports.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // The domain, and the plan of a slice, are pure: no I/O, no clock.
    files: ['src/domain/**/*.ts', 'src/pipeline/slice-plan.ts', 'src/store/milestone-changes.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'knex',
                'pg',
                'kafkajs',
                'ioredis',
                'redlock',
                '@kafkajs/*',
                'node:*',
                'fs',
                'http',
                'net',
              ],
              message: 'src/domain is pure: no I/O imports; pass what it needs in.',
            },
            {
              group: [
                '**/db/*',
                '**/ledger/*',
                '**/store/order-writes',
                '**/kafka/*',
                '**/locks/*',
              ],
              message: 'pure code reads no database: the load step hands it what it needs.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'src/domain does not read the clock: pass `now` in.',
        },
        {
          selector: "MemberExpression[object.name='Date'][property.name='now']",
          message: 'src/domain does not read the clock: pass `now` in.',
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The operators' console: ES modules the browser runs as they are (no build step).
    files: ['console/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'document',
          'window',
          'location',
          'history',
          'sessionStorage',
          'fetch',
          'Node',
          'URLSearchParams',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['jest.config.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } },
  },
  {
    // Builds on jest.config.js, which is CommonJS as jest reads it.
    files: ['jest.mutation.config.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
