// The widget's build: one self-contained IIFE, no dependencies, written where the hub serves it
// from (chalicelib/widget/static/widget.js, packaged with chalicelib for Lambda). Run with the
// console's toolchain: console/node_modules/.bin/vite build --config widget/vite.config.ts
// (`make widget`, which links widget/node_modules to it first).
import { resolve } from "node:path";
import { defineConfig } from "vite";

const root = import.meta.dirname;

export default defineConfig({
  root,
  logLevel: "warn",
  build: {
    outDir: resolve(root, "../chalicelib/widget/static"),
    emptyOutDir: false,
    target: "es2020",
    minify: true,
    sourcemap: false,
    lib: {
      entry: resolve(root, "src/main.ts"),
      name: "SwitchboardWidget",
      formats: ["iife"],
      fileName: () => "widget.js",
    },
  },
});
