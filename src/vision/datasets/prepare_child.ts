// Entry point of the child process that prepareCifar10Sync runs: a download and extraction are
// asynchronous, and running them in a child lets a synchronous constructor wait for them without
// blocking tricks. Reads options as JSON from argv[2]; answers as JSON on fd 3.

import { writeSync } from "node:fs";
import { prepareCifar10, type PrepareOptions } from "./cifar_download.js";

const opts = JSON.parse(process.argv[2] ?? "{}") as PrepareOptions;
prepareCifar10(opts).then(
  (layout) => writeSync(3, JSON.stringify({ ok: true, layout })),
  (e: Error) => writeSync(3, JSON.stringify({ ok: false, name: e.name, message: e.message })),
);
