import { defineConfig } from 'vite';

// Why a plain config: Vite transforms JSX itself (automatic runtime), so no React plugin is
// needed; the app is served by the audit API under /dashboard/, which is its base path.
export default defineConfig({
  root: import.meta.dirname,
  base: '/dashboard/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { '/graphql': { target: process.env.TF_AUDIT_API_URL ?? 'http://127.0.0.1:8790', ws: true } } },
});
