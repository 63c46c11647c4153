import { defineConfig } from 'vite';

// Why a plain config: Vite transforms JSX itself (automatic runtime), so no React plugin is
// needed. Asset URLs are relative (base './') and routing is in the URL hash, so the audit API
// can serve the built files under any path prefix.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { '/graphql': { target: process.env.TF_AUDIT_API_URL ?? 'http://127.0.0.1:4000', ws: true } } },
});
