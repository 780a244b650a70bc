// Built into dist/ with a manifest; Django serves dist/ at /static/ and the canvas view reads
// dist/.vite/manifest.json to find the hashed entry files.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/static/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      input: "src/main.ts",
    },
  },
});
