/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The production build lands where `aga-swarm serve` serves it from.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: '../src/aga_swarm/server/static',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8000',
      '/socket.io': { target: 'http://127.0.0.1:8000', ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    // a page test types and uploads through jsdom: seconds on a loaded machine (no test asserts a duration)
    testTimeout: 30_000,
  },
});
