import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/fault runs too, in its CI form (STEADFAST_FAULT_KILLS raises the kill count: `npm run test:fault`).
    exclude: ['node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The Redis tests start their own redis-server: installed here when missing (or one line says what to install).
    globalSetup: ['test/helpers/redis-install.ts'],
  },
});
