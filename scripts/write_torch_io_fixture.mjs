// Writes test/fixtures/torch_io_kindling.pt with kindling's torch.save (the object is test/helpers/torch_io_sample.ts).
// Then run /usr/bin/python3 scripts/gen_torch_io_fixtures.py, which checks that PyTorch reads it.
// Run from the repository root after `npx tsc -p tsconfig.json`: node scripts/write_torch_io_fixture.mjs
import * as torch from "../dist/src/index.js";
import { torchIoSample } from "../dist/test/helpers/torch_io_sample.js";

torch.save(torchIoSample(), "test/fixtures/torch_io_kindling.pt");
console.log("wrote test/fixtures/torch_io_kindling.pt");
