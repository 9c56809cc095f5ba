// The addon loader: KINDLING_BACKEND=ref keeps the addon unloaded and says why.
import test from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";

test("addon loader: KINDLING_BACKEND=ref disables it", async () => {
  const out = await new Promise<string>((resolve, reject) => {
    const code = `import(${JSON.stringify(new URL("../src/backends/cpu/addon.js", import.meta.url).href)}).then(m => { console.log(JSON.stringify([m.loadAddon(), m.addonLoadError()])); })`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", code], { env: { ...process.env, KINDLING_BACKEND: "ref" } });
    let so = "";
    child.stdout.on("data", (d: Buffer) => (so += d.toString()));
    child.on("error", reject);
    child.on("close", () => resolve(so));
  });
  const [mod, err] = JSON.parse(out) as [unknown, string];
  assert.equal(mod, null);
  assert.match(err, /KINDLING_BACKEND=ref/);
});
