import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The hub serves the built console under /console/ (the local runtime from dist/,
// AWS from the console bucket); `npm run dev` proxies the API to a running `make run`.
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 1200 },
  server: {
    proxy: { "/v1": process.env.SWITCHBOARD_HUB ?? "http://127.0.0.1:8000" },
  },
});
