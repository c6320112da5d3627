import { defineConfig } from 'vite';

/** Where `apps/server` listens during development (`PORT=8765 npx tsx src/main.ts`). */
const API_TARGET = process.env.CHORUS_API_URL ?? 'http://localhost:8765';

export default defineConfig({
  // Vite's built-in esbuild handles TSX; React 19's automatic runtime, no plugin needed.
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod ships /* @__PURE__ */ comments in places Rollup ignores; harmless noise.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/zod/')) return;
        // React Query marks modules "use client" for React Server Components; meaningless in an SPA.
        if ((warning.code === 'MODULE_LEVEL_DIRECTIVE' || warning.code === 'SOURCEMAP_ERROR') && warning.message.includes('use client')) return;
        if (warning.code === 'SOURCEMAP_ERROR' && warning.id?.includes('/@tanstack/')) return;
        warn(warning);
      },
    },
  },
  server: {
    // No changeOrigin: the server accepts WebSocket upgrades whose Origin matches the Host
    // header, and the browser's Origin is this dev server.
    proxy: {
      '/trpc': { target: API_TARGET, ws: true },
      '/api': { target: API_TARGET },
      '/healthz': { target: API_TARGET },
    },
  },
});
