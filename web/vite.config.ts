import { defineConfig } from 'vite';

// Preact through the automatic JSX runtime (tsconfig's jsxImportSource); no plugin needed.
// Hashed assets under /assets/ (the server caches them for a year); no inline script or style,
// since the server's CSP allows only 'self'.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  server: {
    proxy: { '/api': 'http://localhost:3000', '/auth': 'http://localhost:3000', '/socket.io': { target: 'ws://localhost:3000', ws: true } },
  },
});
