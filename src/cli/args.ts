// A small, strict command-line parser: `--name value`, `--name=value`, boolean flags, `--no-flag`, positionals.

export class UsageError extends Error {
  override name = "UsageError";
}

export type OptKind = "string" | "int" | "number" | "bool";

export interface OptSpec {
  kind: OptKind;
  help: string;
  /** Shown in help; the value used when absent is decided by the command. */
  default?: string | number | boolean;
  metavar?: string;
  /** Accepted values (strings). */
  choices?: readonly string[];
  min?: number;
  hidden?: boolean;
}

export type Specs = Record<string, OptSpec>;
export type Parsed = { opts: Record<string, string | number | boolean | undefined>; positionals: string[] };

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function parseArgs(argv: readonly string[], specs: Specs, command: string): Parsed {
  const opts: Parsed["opts"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("--") || a === "--") {
      if (a.startsWith("-") && a.length > 1 && a !== "-") {
        if (a === "-h") {
          opts.help = true;
          continue;
        }
        throw new UsageError(`${command}: unknown option ${a}`);
      }
      positionals.push(a);
      continue;
    }
    let name = a.slice(2);
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (name === "help") {
      opts.help = true;
      continue;
    }
    let spec = specs[name];
    if (!spec && name.startsWith("no-") && specs[name.slice(3)]?.kind === "bool") {
      if (value !== undefined) throw new UsageError(`${command}: --${name} takes no value`);
      opts[camel(name.slice(3))] = false;
      continue;
    }
    if (!spec) {
      const near = Object.keys(specs).filter((k) => !specs[k]!.hidden && (k.startsWith(name.slice(0, 3)) || name.startsWith(k.slice(0, 3))));
      throw new UsageError(`${command}: unknown option --${name}${near.length ? ` (did you mean ${near.map((k) => `--${k}`).join(" or ")}?)` : ""}`);
    }
    if (spec.kind === "bool") {
      if (value === undefined) opts[camel(name)] = true;
      else if (/^(1|true|yes)$/i.test(value)) opts[camel(name)] = true;
      else if (/^(0|false|no)$/i.test(value)) opts[camel(name)] = false;
      else throw new UsageError(`${command}: --${name} expects true or false, got "${value}"`);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${command}: --${name} needs a value`);
      value = argv[++i]!;
    }
    opts[camel(name)] = convert(command, name, spec, value);
  }
  return { opts, positionals };
}

function convert(command: string, name: string, spec: OptSpec, value: string): string | number {
  if (spec.choices && !spec.choices.includes(value) && !(spec.choices.includes("cuda:N") && /^cuda:\d+$/.test(value))) {
    throw new UsageError(`${command}: --${name} must be one of ${spec.choices.join(", ")}; got "${value}"`);
  }
  if (spec.kind === "string") return value;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${command}: --${name} expects a number, got "${value}"`);
  if (spec.kind === "int" && !Number.isInteger(n)) throw new UsageError(`${command}: --${name} expects an integer, got "${value}"`);
  if (spec.min !== undefined && n < spec.min) throw new UsageError(`${command}: --${name} must be at least ${spec.min}, got ${value}`);
  return n;
}

export function helpText(usage: string, description: string, specs: Specs): string {
  const rows = Object.entries(specs)
    .filter(([, s]) => !s.hidden)
    .map(([k, s]) => {
      const left = `  --${k}${s.kind === "bool" ? "" : ` ${s.metavar ?? (s.kind === "string" ? "VALUE" : "N")}`}`;
      const def = s.default !== undefined ? ` (default: ${s.default})` : "";
      return [left, s.help + def] as const;
    });
  const w = Math.max(...rows.map(([l]) => l.length), 10) + 2;
  return `Usage: ${usage}\n\n${description}\n\nOptions:\n${rows.map(([l, r]) => l.padEnd(w) + r).join("\n")}\n  --help${" ".repeat(Math.max(1, w - 8))}Show this help\n`;
}
