// The `kindling` command: train | eval | predict.

import "../index.js"; // registers the backends

import { helpText, parseArgs, UsageError, type Specs } from "./args.js";
import { ExitError } from "./common.js";
import { DataError } from "./data.js";
import { EVAL_SPECS, evalCommand } from "./eval.js";
import { PREDICT_SPECS, predictCommand } from "./predict.js";
import { resolveConfig, train, TRAIN_SPECS } from "./train.js";

/** Exit codes: 0 ok, 1 unexpected error, 2 usage, 3 data not available, 130 interrupted (checkpoint saved). */
export const EXIT = { ok: 0, error: 1, usage: 2, data: 3, interrupted: 130 } as const;

const COMMANDS: Record<string, { specs: Specs; usage: string; description: string }> = {
  train: {
    specs: TRAIN_SPECS,
    usage: "kindling train [options]",
    description:
      "Train the CIFAR-10 tutorial's network with its recipe (batch 4, SGD lr 0.001 momentum 0.9, 2 epochs,\n" +
      "ToTensor + Normalize(0.5, 0.5)). Writes checkpoint.safetensors, model.safetensors, metrics.jsonl,\n" +
      "TensorBoard events and report.html into --out. Ctrl-C saves a checkpoint; --resume continues exactly.",
  },
  eval: { specs: EVAL_SPECS, usage: "kindling eval --checkpoint PATH [options]", description: "Test accuracy, per-class accuracy and the confusion matrix of a trained network." },
  predict: {
    specs: PREDICT_SPECS,
    usage: "kindling predict --checkpoint PATH IMAGE... [options]",
    description: "Top classes with probabilities for each image (PNG or JPEG of any size, resized to 32x32).",
  },
};

const MAIN_HELP = `Usage: kindling <command> [options]

Commands:
  train     train the CIFAR-10 tutorial network (try: kindling train --dataset synthetic)
  eval      evaluate a checkpoint on the test set
  predict   classify image files with a checkpoint
  launch    run a script as N data-parallel processes (mpirun): kindling launch --nproc-per-node N script.js

Run 'kindling <command> --help' for the options of a command.
`;

function usageExit(e: unknown): number {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`${e.message}\nRun 'kindling launch --help' for the options.\n`);
  return EXIT.usage;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    process.stdout.write(MAIN_HELP);
    return cmd ? EXIT.ok : EXIT.usage;
  }
  if (cmd === "--version" || cmd === "-v") {
    const { kindlingVersion } = await import("../io/checkpoint.js");
    process.stdout.write(`kindling ${kindlingVersion()}\n`);
    return EXIT.ok;
  }
  if (cmd === "launch") return (await import("./launch.js")).launchCommand(rest).catch(usageExit);
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`kindling: unknown command '${cmd}'\n\n${MAIN_HELP}`);
    return EXIT.usage;
  }
  let json = false;
  try {
    const { opts, positionals } = parseArgs(rest, c.specs, `kindling ${cmd}`);
    json = !!opts.json;
    if (opts.help) {
      process.stdout.write(helpText(c.usage, c.description, c.specs));
      return EXIT.ok;
    }
    let result: { summary: unknown; code: number };
    if (cmd === "train") {
      if (positionals.length) throw new UsageError(`kindling train: unexpected argument '${positionals[0]}'`);
      result = await train(resolveConfig(opts));
    } else if (cmd === "eval") {
      if (positionals.length) throw new UsageError(`kindling eval: unexpected argument '${positionals[0]}'`);
      result = await evalCommand(opts);
    } else {
      result = await predictCommand(opts, positionals);
    }
    if (json) process.stdout.write(JSON.stringify(result.summary, null, 2) + "\n");
    return result.code;
  } catch (e) {
    const err = e as Error;
    let code: number = EXIT.error;
    let kind = "error";
    if (e instanceof UsageError) {
      code = EXIT.usage;
      kind = "usage";
    } else if (e instanceof ExitError) {
      code = e.code;
    } else if (e instanceof DataError || (err && err.name === "SafetensorsError")) {
      code = e instanceof DataError ? EXIT.data : EXIT.error;
      kind = e instanceof DataError ? "data" : "checkpoint";
    }
    const msg = code === EXIT.error && kind === "error" ? (err?.stack ?? String(e)) : err.message;
    process.stderr.write(msg.startsWith(`kindling ${cmd}:`) ? `${msg}\n` : `kindling ${cmd}: ${msg}\n`);
    if (e instanceof DataError) {
      process.stderr.write(`With the kindling command: --data DIR, KINDLING_DATA=DIR or --download; or try it offline with --dataset synthetic.\n`);
    }
    if (e instanceof UsageError) process.stderr.write(`Run 'kindling ${cmd} --help' for the options.\n`);
    if (json) process.stdout.write(JSON.stringify({ command: cmd, error: { kind, message: err?.message ?? String(e) } }) + "\n");
    return code;
  }
}
