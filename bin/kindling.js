#!/usr/bin/env node
// The `kindling` command (see src/cli/main.ts); run `npm run build` (or `npx tsc`) first.
import { main } from "../dist/src/cli/main.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
