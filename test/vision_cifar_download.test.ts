// The download path against a local HTTP server on 127.0.0.1 serving a tiny fixture tarball:
// resume of interrupted transfers, servers that ignore Range, MD5 mismatch, corrupt archives,
// offline errors, and a local archive used without network. Never touches the real URL.
import test from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { c as tarCreate } from "tar";
import { prepareCifar10 } from "../src/vision/datasets/cifar_download.js";
import { prepareCifar10Sync } from "../src/vision/datasets/prepare_sync.js";
import { readCifar10 } from "../src/vision/datasets/cifar_files.js";
import { downloadFile } from "../src/vision/datasets/download.js";
import { labelOf, makeCifarFixtures } from "./helpers/cifar_fixtures.js";

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

async function makeTarball(): Promise<Buffer> {
  const fx = makeCifarFixtures({ formats: ["py"], perBatch: 2 });
  const file = join(fx.root, "cifar-10-python.tar.gz");
  await tarCreate({ gzip: true, cwd: fx.root, file, portable: true }, ["cifar-10-batches-py"]);
  const buf = readFileSync(file);
  rmSync(fx.root, { recursive: true, force: true });
  return buf;
}

type Mode = "normal" | "interrupt-first" | "ignore-range";
interface Served {
  url: string;
  requests: IncomingHttpHeaders[];
  close(): Promise<void>;
}

async function serve(body: Buffer, mode: Mode): Promise<Served> {
  const requests: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.headers);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (m && mode !== "ignore-range") {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { "Content-Range": `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        "Content-Length": body.length - start,
        "Content-Range": `bytes ${start}-${body.length - 1}/${body.length}`,
      });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { "Content-Length": body.length });
    if (mode === "interrupt-first" && requests.length === 1) {
      // Send part of the body, then drop the connection mid-transfer.
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/cifar-10-python.tar.gz`,
    requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function tmpRoot(): string {
  return mkdtempSync(join(tmpdir(), "kindling-dl-"));
}

function assertCleanFailure(root: string): void {
  const left = readdirSync(root);
  assert.ok(!left.includes("cifar-10-batches-py"), `half-extracted dataset left: ${left}`);
  assert.ok(!left.some((f) => f.startsWith(".extract-")), `temp dir left: ${left}`);
}

test("download, verify and extract; a second call uses the files as they are", async () => {
  const tarball = await makeTarball();
  const srv = await serve(tarball, "normal");
  const root = tmpRoot();
  try {
    const lines: string[] = [];
    const layout = await prepareCifar10({ root, download: true, url: srv.url, md5: md5(tarball), quiet: false, log: (l) => lines.push(l) });
    assert.equal(layout.layout, "py");
    assert.match(lines[0]!, /^Downloading http:\/\/127\.0\.0\.1:\d+\/cifar-10-python\.tar\.gz to /);
    const train = readCifar10(root, true);
    assert.deepEqual(train.targets, Array.from({ length: 10 }, (_, i) => labelOf("train", i)));
    assert.ok(existsSync(join(root, "cifar-10-python.tar.gz")));
    assert.ok(!existsSync(join(root, "cifar-10-python.tar.gz.part")));
    lines.length = 0;
    await prepareCifar10({ root, download: true, url: srv.url, md5: md5(tarball), log: (l) => lines.push(l) });
    assert.deepEqual(lines, ["Files already downloaded and verified"]);
    assert.equal(srv.requests.length, 1);
  } finally {
    await srv.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test("an interrupted transfer resumes with a Range request", async () => {
  const tarball = await makeTarball();
  const srv = await serve(tarball, "interrupt-first");
  const root = tmpRoot();
  try {
    await prepareCifar10({ root, download: true, url: srv.url, md5: md5(tarball), quiet: true });
    assert.equal(srv.requests.length, 2);
    assert.equal(srv.requests[0]!.range, undefined);
    assert.match(srv.requests[1]!.range ?? "", /^bytes=\d+-$/);
    assert.equal(md5(readFileSync(join(root, "cifar-10-python.tar.gz"))), md5(tarball));
    assert.equal(readCifar10(root, false).targets.length, 2);
  } finally {
    await srv.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test("a .part left by an earlier run is resumed; a server ignoring Range restarts from zero", async () => {
  const tarball = await makeTarball();
  for (const mode of ["normal", "ignore-range"] as const) {
    const srv = await serve(tarball, mode);
    const root = tmpRoot();
    try {
      const dest = join(root, "f.tar.gz");
      // For ignore-range the stale part is garbage: only a restart can produce the right file.
      writeFileSync(`${dest}.part`, mode === "normal" ? tarball.subarray(0, 100) : Buffer.alloc(100, 7));
      await downloadFile({ url: srv.url, dest, md5: md5(tarball), quiet: true });
      assert.equal(srv.requests[0]!.range, "bytes=100-");
      assert.deepEqual(readFileSync(dest), tarball);
      assert.ok(!existsSync(`${dest}.part`));
    } finally {
      await srv.close();
      rmSync(root, { recursive: true, force: true });
    }
  }
});

test("MD5 mismatch: error, nothing kept, and the three ways to provide the data", async () => {
  const tarball = await makeTarball();
  const srv = await serve(tarball, "normal");
  const root = tmpRoot();
  try {
    await assert.rejects(
      prepareCifar10({ root, download: true, url: srv.url, md5: "0".repeat(32), quiet: true }),
      (e: Error) => {
        assert.match(e.message, /MD5 mismatch: got [0-9a-f]{32}, expected 0{32}/);
        assert.match(e.message, /KINDLING_DATA/);
        assert.match(e.message, /place the archive cifar-10-python\.tar\.gz/);
        return true;
      },
    );
    assert.deepEqual(readdirSync(root), []);
  } finally {
    await srv.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test("a corrupt tarball (with a matching MD5) fails to extract and leaves nothing half-extracted", async () => {
  const tarball = await makeTarball();
  const corrupt = Buffer.from(tarball);
  corrupt.fill(0x41, 40, 400);
  const srv = await serve(corrupt, "normal");
  const root = tmpRoot();
  try {
    await assert.rejects(
      prepareCifar10({ root, download: true, url: srv.url, md5: md5(corrupt), quiet: true }),
      /cifar-10-python\.tar\.gz could not be extracted .*corrupt or truncated/,
    );
    assertCleanFailure(root);
    // Truncated gzip stream
    writeFileSync(join(root, "cifar-10-python.tar.gz"), tarball.subarray(0, tarball.length - 200));
    await assert.rejects(
      prepareCifar10({ root, md5: md5(tarball.subarray(0, tarball.length - 200)), quiet: true }),
      /could not be extracted|incomplete dataset|does not contain/,
    );
    assertCleanFailure(root);
  } finally {
    await srv.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test("offline: the error says what failed and the three ways", async () => {
  const srv = await serve(Buffer.alloc(0), "normal");
  const url = srv.url;
  await srv.close(); // nothing listens on that port any more
  const root = tmpRoot();
  try {
    await assert.rejects(prepareCifar10({ root, download: true, url, quiet: true }), (e: Error) => {
      assert.match(e.message, /download failed: http:\/\/127\.0\.0\.1:\d+\/cifar-10-python\.tar\.gz: fetch failed \(ECONNREFUSED\)/);
      assert.match(e.message, /1\. pass \{ root \}/);
      assert.match(e.message, /2\. set the KINDLING_DATA/);
      assert.match(e.message, /3\. place the archive/);
      return true;
    });
    await assert.rejects(prepareCifar10({ root, quiet: true }), /download is false\.\nProvide CIFAR-10 in one of three ways/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("an archive placed in root is verified and extracted without network (sync helper in a child)", async () => {
  const tarball = await makeTarball();
  const root = tmpRoot();
  try {
    const src = join(root, "src.tgz");
    writeFileSync(src, tarball);
    copyFileSync(src, join(root, "cifar-10-python.tar.gz"));
    rmSync(src);
    assert.throws(() => prepareCifar10Sync({ root, quiet: true }), /has MD5 [0-9a-f]+, expected c58f30108f718f92721af3b95e74349a/);
    const layout = prepareCifar10Sync({ root, md5: md5(tarball), quiet: true, url: "http://127.0.0.1:9/unused" });
    assert.equal(layout.layout, "py");
    assert.equal(readCifar10(root, true).targets.length, 10);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
