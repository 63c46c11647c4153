import { existsSync, readdirSync, readFileSync } from 'node:fs';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Why: @nx/enforce-module-boundaries resolves an import to a project through the package's entry
// point. Service packages have none (no exports/main), so a bare `@tameflare/<service>` import is
// invisible to it; name them here so that form is refused too.
const servicesDir = new URL('./services/', import.meta.url);
const servicePackages = readdirSync(servicesDir)
  .map((d) => new URL(`${d}/package.json`, servicesDir))
  .filter((f) => existsSync(f))
  .map((f) => JSON.parse(readFileSync(f, 'utf8')).name)
  .filter((n) => typeof n === 'string');

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.nx/**', '**/generated/**', 'services/audit-api/dashboard/dist/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      // Why: the design card's rooms. Services talk over NATS, never by import;
      // libraries never reach up into a process; only tests may use the test harness.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: servicePackages.flatMap((n) => [n, `${n}/**`]),
              message: 'Services talk over NATS: nothing imports a service package. Shared contracts live in libs/contracts.',
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-restricted-syntax': [
        'error',
        { selector: "Property[key.name='insecureHTTPParser'][value.value=true]", message: 'insecureHTTPParser stays off: it re-opens request smuggling.' },
      ],
    },
  },
  {
    // Tests, benchmarks and the e2e suite may use the harness in libs/testing; production code may not.
    files: ['**/*.test.ts', '**/test/**/*.ts', 'e2e/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          depConstraints: [
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
    },
  },
];
