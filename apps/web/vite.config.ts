import { defineConfig } from 'vite';

export default defineConfig({
  // Our packages ship TypeScript source under this condition (see tsconfig.base.json).
  resolve: { conditions: ['@parley/source', 'browser', 'module', 'import', 'default'] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: {
    // `npm run dev -w apps/web` against a gateway started by `npm start` (port 3000).
    proxy: { '/api': 'http://127.0.0.1:3000', '/auth': 'http://127.0.0.1:3000', '/ws': { target: 'ws://127.0.0.1:3000', ws: true } },
  },
});
