import { defineConfig } from "vitest/config";

// Served by `sitewatch serve` from web/dist (Server:WebRoot): relative asset paths, one entry, no inline scripts
// (the server's Content-Security-Policy allows scripts and styles from its own origin only).
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // `npm run dev` against a running `sitewatch serve` on the default address.
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/hubs": { target: "http://127.0.0.1:8080", ws: true },
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
