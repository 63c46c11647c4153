import { defineConfig } from 'vitest/config';

// Tiers by suffix, as in Emmett: *.unit.test.ts needs nothing; *.int.test.ts talks to real
// PostgreSQL and a private nats-server; *.e2e.test.ts runs the whole stack.
export default defineConfig({
  test: {
    include: ['src/**/*.{unit,int,e2e}.test.ts', 'test/**/*.{unit,int,e2e}.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
