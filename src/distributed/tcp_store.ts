// torch.distributed.TCPStore: the key-value store torchrun-style jobs rendezvous through. One process (the master,
// usually rank 0) serves it on MASTER_ADDR:MASTER_PORT; every process, the master included, talks to it as a client.
// `get` and `wait` block (asynchronously) until the keys exist or the timeout passes; `add` and `compareSet` are
// atomic because the server applies requests one at a time. The wire format is one JSON object per line, values in
// base64: small, inspectable, and nothing a peer sends is ever evaluated.
import * as net from "node:net";
import { launcherEnvironment } from "./process_group.js";

export class StoreError extends Error {
  override name = "StoreError";
}

export interface TCPStoreOptions {
  /** Serve the store from this process (default false: connect to one). */
  isMaster?: boolean;
  /** With isMaster: resolve create() only once this many clients (the master included) have connected. */
  worldSize?: number;
  /** Connecting, and each blocking get/wait, fail after this long (default 300 000 ms, as PyTorch). */
  timeoutMs?: number;
}

type Value = string | Uint8Array;

interface Request {
  id: number;
  op: "set" | "get" | "wait" | "add" | "cas" | "check" | "del" | "num";
  keys: string[];
  value?: string;
  expected?: string;
  amount?: number;
  timeoutMs?: number;
}

interface Reply {
  id: number;
  ok: boolean;
  value?: string;
  count?: number;
  error?: string;
}

const enc = (v: Value): string => Buffer.from(typeof v === "string" ? new TextEncoder().encode(v) : v).toString("base64");
const dec = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));

/** Splits a socket's data into lines and hands each parsed JSON object on. */
function lines(sock: net.Socket, onMessage: (m: unknown) => void): void {
  let buf = "";
  sock.setEncoding("utf8");
  sock.on("data", (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line) continue;
      let m: unknown;
      try {
        m = JSON.parse(line);
      } catch {
        sock.destroy(new StoreError("TCPStore: a peer sent a malformed message"));
        return;
      }
      onMessage(m);
    }
  });
}

/** The master's side: the data and the requests waiting on keys. */
class StoreServer {
  readonly data = new Map<string, Buffer>();
  private readonly waiting: { keys: string[]; done: () => void; timer: NodeJS.Timeout }[] = [];
  readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor() {
    this.server = net.createServer((sock) => {
      this.sockets.add(sock);
      sock.on("close", () => this.sockets.delete(sock));
      sock.on("error", () => sock.destroy());
      lines(sock, (m) => this.handle(sock, m as Request));
    });
  }

  private reply(sock: net.Socket, r: Reply): void {
    if (!sock.destroyed) sock.write(JSON.stringify(r) + "\n");
  }

  private wake(): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const w = this.waiting[i]!;
      if (w.keys.every((k) => this.data.has(k))) {
        this.waiting.splice(i, 1);
        clearTimeout(w.timer);
        w.done();
      }
    }
  }

  private handle(sock: net.Socket, q: Request): void {
    const keys = Array.isArray(q.keys) ? q.keys.map(String) : [];
    const key = keys[0] ?? "";
    switch (q.op) {
      case "set":
        this.data.set(key, Buffer.from(q.value ?? "", "base64"));
        this.reply(sock, { id: q.id, ok: true });
        return this.wake();
      case "add": {
        const old = this.data.get(key);
        const cur = old === undefined ? 0 : Number(old.toString("utf8"));
        if (!Number.isSafeInteger(cur)) return this.reply(sock, { id: q.id, ok: false, error: `key '${key}' does not hold an integer` });
        const next = cur + Number(q.amount ?? 0);
        this.data.set(key, Buffer.from(String(next)));
        this.reply(sock, { id: q.id, ok: true, count: next });
        return this.wake();
      }
      case "cas": {
        // PyTorch's compare_set: set when the current value equals `expected` (or the key is missing and expected
        // is empty); the reply is the value now stored.
        const cur = this.data.get(key);
        const expected = Buffer.from(q.expected ?? "", "base64");
        if ((cur === undefined && expected.length === 0) || (cur !== undefined && cur.equals(expected))) {
          this.data.set(key, Buffer.from(q.value ?? "", "base64"));
          this.wake();
        }
        const now = this.data.get(key);
        return this.reply(sock, { id: q.id, ok: true, value: (now ?? expected).toString("base64") });
      }
      case "check":
        return this.reply(sock, { id: q.id, ok: true, count: keys.every((k) => this.data.has(k)) ? 1 : 0 });
      case "del":
        return this.reply(sock, { id: q.id, ok: true, count: this.data.delete(key) ? 1 : 0 });
      case "num":
        return this.reply(sock, { id: q.id, ok: true, count: this.data.size });
      case "get":
      case "wait": {
        const done = () => this.reply(sock, { id: q.id, ok: true, value: q.op === "get" ? this.data.get(key)!.toString("base64") : undefined });
        if (keys.every((k) => this.data.has(k))) return done();
        const ms = Math.max(0, Number(q.timeoutMs ?? 0));
        const entry = {
          keys,
          done,
          timer: setTimeout(() => {
            const i = this.waiting.indexOf(entry);
            if (i >= 0) this.waiting.splice(i, 1);
            const missing = keys.filter((k) => !this.data.has(k));
            this.reply(sock, { id: q.id, ok: false, error: `timed out after ${ms} ms waiting for key(s) ${missing.map((k) => `'${k}'`).join(", ")}` });
          }, ms),
        };
        this.waiting.push(entry);
        return;
      }
      default:
        return this.reply(sock, { id: q.id, ok: false, error: `unknown request '${String(q.op)}'` });
    }
  }

  close(): void {
    for (const w of this.waiting) clearTimeout(w.timer);
    this.waiting.length = 0;
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}

function connectOnce(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    sock.once("connect", () => {
      sock.off("error", reject);
      resolve(sock);
    });
    sock.once("error", reject);
  });
}

export class TCPStore {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private closed = false;

  private constructor(
    readonly host: string,
    /** The port served (the one the OS picked when the master was created with port 0). */
    readonly port: number,
    readonly timeoutMs: number,
    private readonly sock: net.Socket,
    private readonly server: StoreServer | null,
  ) {
    lines(sock, (m) => {
      const r = m as Reply;
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      p.resolve(r);
    });
    const fail = (why: string) => {
      for (const p of this.pending.values()) p.reject(new StoreError(`TCPStore ${host}:${port}: ${why}`));
      this.pending.clear();
    };
    sock.on("error", (e) => fail(`connection error: ${e.message}`));
    sock.on("close", () => fail(this.closed ? "the store was closed" : "the master closed the connection (did rank 0 exit?)"));
  }

  /**
   * Serves (isMaster) or joins the store at host:port. A client retries until the master is up, and fails after
   * timeoutMs with an error that names the address.
   */
  static async create(host: string, port: number, o: TCPStoreOptions = {}): Promise<TCPStore> {
    const timeoutMs = o.timeoutMs ?? 300_000;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StoreError(`TCPStore: port must be 0..65535, got ${port}`);
    let server: StoreServer | null = null;
    if (o.isMaster) {
      server = new StoreServer();
      const s = server.server;
      await new Promise<void>((resolve, reject) => {
        s.once("error", (e: NodeJS.ErrnoException) =>
          reject(new StoreError(`TCPStore: the master cannot listen on ${host}:${port} (${e.code ?? e.message})` +
            (e.code === "EADDRINUSE" ? `: another job uses that port; pick another MASTER_PORT` : ""))));
        // All interfaces, as PyTorch's store: the other nodes reach it through whatever address MASTER_ADDR names.
        s.listen(port, () => resolve());
      });
      port = (s.address() as net.AddressInfo).port;
    }
    const deadline = Date.now() + timeoutMs;
    let sock: net.Socket | null = null;
    let last = "";
    for (let delay = 10; ; delay = Math.min(delay * 2, 1000)) {
      try {
        sock = await connectOnce(host, port);
        break;
      } catch (e) {
        last = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      }
      if (Date.now() >= deadline) {
        server?.close();
        throw new StoreError(
          `TCPStore: could not reach the master at ${host}:${port} within ${timeoutMs} ms (${last}); check that rank 0 ` +
            `is running and that MASTER_ADDR / MASTER_PORT (or tcp://host:port) name its address and a port it can open`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.max(1, Math.min(delay, deadline - Date.now()))));
    }
    sock.setNoDelay(true);
    const store = new TCPStore(host, port, timeoutMs, sock, server);
    await store.add("__kindling_store_clients", 1);
    if (o.isMaster && o.worldSize !== undefined && o.worldSize > 1) {
      await store.waitCount("__kindling_store_clients", o.worldSize, timeoutMs);
    }
    return store;
  }

  private request(q: Omit<Request, "id">): Promise<Reply> {
    if (this.closed) return Promise.reject(new StoreError("TCPStore: the store was closed"));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sock.write(JSON.stringify({ ...q, id }) + "\n");
    }).then((r) => {
      if (!r.ok) throw new StoreError(`TCPStore ${this.host}:${this.port}: ${q.op} ${q.keys.map((k) => `'${k}'`).join(", ")}: ${r.error}`);
      return r;
    });
  }

  async set(key: string, value: Value): Promise<void> {
    await this.request({ op: "set", keys: [key], value: enc(value) });
  }

  /** The value under key, waiting up to the store's timeout for someone to set it. */
  async get(key: string): Promise<Uint8Array> {
    return dec((await this.request({ op: "get", keys: [key], timeoutMs: this.timeoutMs })).value ?? "");
  }

  /** Waits until every key exists (timeoutMs, default the store's). */
  async wait(keys: readonly string[], timeoutMs = this.timeoutMs): Promise<void> {
    await this.request({ op: "wait", keys: [...keys], timeoutMs });
  }

  /** Adds `amount` to the integer under key (0 when missing) and returns the new value. */
  async add(key: string, amount: number): Promise<number> {
    if (!Number.isSafeInteger(amount)) throw new StoreError(`TCPStore.add: amount must be an integer, got ${amount}`);
    return (await this.request({ op: "add", keys: [key], amount })).count!;
  }

  /** Stores `desired` if the key holds `expected` (or is missing and expected is empty); returns the value now held. */
  async compareSet(key: string, expected: Value, desired: Value): Promise<Uint8Array> {
    return dec((await this.request({ op: "cas", keys: [key], expected: enc(expected), value: enc(desired) })).value ?? "");
  }

  /** Whether every key exists, without waiting. */
  async check(keys: readonly string[]): Promise<boolean> {
    return (await this.request({ op: "check", keys: [...keys] })).count === 1;
  }

  async deleteKey(key: string): Promise<boolean> {
    return (await this.request({ op: "del", keys: [key] })).count === 1;
  }

  async numKeys(): Promise<number> {
    return (await this.request({ op: "num", keys: [] })).count!;
  }

  /** Waits until the integer under key reaches `n` (polling; used for the master's worker count). */
  private async waitCount(key: string, n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.add(key, 0);
      if (v >= n) return;
      if (Date.now() > deadline) throw new StoreError(`TCPStore: only ${v} of ${n} processes joined the store at ${this.host}:${this.port} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Closes the connection (and, on the master, the server: clients still connected see it close). */
  close(): void {
    this.closed = true;
    this.sock.destroy();
    this.server?.close();
  }
}

export interface Rendezvous {
  store: TCPStore;
  rank: number;
  worldSize: number;
}

/** Host and port of an init method: env:// reads MASTER_ADDR / MASTER_PORT, tcp://host:port names them. */
export function parseInitMethod(initMethod: string, env: Readonly<Record<string, string | undefined>> = process.env): { host: string; port: number } {
  if (initMethod === "env://") {
    const missing = ["MASTER_ADDR", "MASTER_PORT"].filter((k) => !env[k]);
    if (missing.length) {
      throw new StoreError(`initMethod "env://" needs ${missing.join(" and ")} in the environment (the address and port of rank 0's store); ` +
        "kindling launch --nnodes ... sets them, or export them yourself");
    }
    const port = Number(env.MASTER_PORT);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StoreError(`MASTER_PORT must be a port number 1..65535, got '${env.MASTER_PORT}'`);
    return { host: env.MASTER_ADDR!, port };
  }
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(initMethod);
  if (m) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new StoreError(`initMethod "${initMethod}": the port must be 1..65535`);
    return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
  }
  throw new StoreError(`initMethod "${initMethod}" is not supported: use "env://" (MASTER_ADDR / MASTER_PORT) or "tcp://host:port"`);
}

function rankArg(v: number | undefined, envName: string, env: Readonly<Record<string, string | undefined>>, what: string): number {
  // torchrun's RANK / WORLD_SIZE, else what an MPI launcher (kindling launch, mpirun) advertises.
  const mpi = launcherEnvironment(env);
  const raw = v ?? (env[envName] !== undefined ? Number(env[envName]) : mpi ? (what === "rank" ? mpi.rank : mpi.size) : undefined);
  if (raw === undefined) throw new StoreError(`rendezvous: ${what} is unknown: pass it or set ${envName}`);
  if (!Number.isInteger(raw) || raw < (what === "rank" ? 0 : 1)) throw new StoreError(`rendezvous: ${what} must be a ${what === "rank" ? "non-negative" : "positive"} integer, got ${raw}`);
  return raw;
}

/**
 * torch.distributed.rendezvous: every process of a torchrun-style job (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT in
 * the environment, or passed) meets at rank 0's TCPStore; resolves once all `worldSize` processes have joined.
 */
export async function rendezvous(initMethod = "env://", o: { rank?: number; worldSize?: number; timeoutMs?: number; env?: Readonly<Record<string, string | undefined>> } = {}): Promise<Rendezvous> {
  const env = o.env ?? process.env;
  const { host, port } = parseInitMethod(initMethod, env);
  const rank = rankArg(o.rank, "RANK", env, "rank");
  const worldSize = rankArg(o.worldSize, "WORLD_SIZE", env, "worldSize");
  if (rank >= worldSize) throw new StoreError(`rendezvous: rank ${rank} is not below worldSize ${worldSize}`);
  const store = await TCPStore.create(host, port, { isMaster: rank === 0, timeoutMs: o.timeoutMs });
  // Everyone leaves only once everyone arrived: the last to arrive sets a key the others wait for.
  const arrived = await store.add("__kindling_rdzv_arrived", 1);
  if (arrived === worldSize) await store.set("__kindling_rdzv_complete", "1");
  try {
    await store.wait(["__kindling_rdzv_complete"]);
  } catch (e) {
    store.close();
    throw new StoreError(`rendezvous: not all ${worldSize} processes arrived at ${host}:${port} (this one was number ${arrived}): ${(e as Error).message}`);
  }
  return { store, rank, worldSize };
}
