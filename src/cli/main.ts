// The `kindling` command: train | eval | predict | doctor.

import "../index.js"; // registers the backends

import { helpText, parseArgs, UsageError, type Specs } from "./args.js";
import { DOCTOR_SPECS, doctorCommand } from "./doctor.js";
import { EVAL_SPECS, evalCommand } from "./eval.js";
import { PREDICT_SPECS, predictCommand } from "./predict.js";
import { describeFailure, EXIT, EXIT_CODES_HELP } from "./failures.js";
import { resolveConfig, train, TRAIN_SPECS } from "./train.js";
import { launched, launchedRank, launchTrain } from "./train_ddp.js";

/** Exit codes (EXIT_CODES_HELP lists them); 128 + the signal's number when a signal stopped training. */
export { EXIT };

const COMMANDS: Record<string, { specs: Specs; usage: string; description: string }> = {
  train: {
    specs: TRAIN_SPECS,
    usage: "kindling train [options]",
    description:
      "Train the CIFAR-10 tutorial's network with its recipe (batch 4, SGD lr 0.001 momentum 0.9, 2 epochs,\n" +
      "ToTensor + Normalize(0.5, 0.5)). Writes checkpoint.safetensors (weights, optimizer state, progress),\n" +
      "model.safetensors (the weights alone: the file PyTorch's load_state_dict takes), metrics.jsonl,\n" +
      "TensorBoard events and report.html into --out. Ctrl-C saves a checkpoint; --resume continues exactly.",
  },
  eval: { specs: EVAL_SPECS, usage: "kindling eval --checkpoint PATH [options]", description: "Test accuracy, per-class accuracy and the confusion matrix of a trained network." },
  predict: {
    specs: PREDICT_SPECS,
    usage: "kindling predict --checkpoint PATH IMAGE... [options]",
    description: "Top classes with probabilities for each image (PNG or JPEG of any size, resized to 32x32).",
  },
  doctor: {
    specs: DOCTOR_SPECS,
    usage: "kindling doctor [--json]",
    description: "Which native addon kindling loaded (file, prebuilt package or source build, ISA) or why none did and\n" +
      "how to get it, and whether the CUDA driver, cuBLAS, cuDNN, NCCL and MPI libraries were found on this machine.",
  },
};

const MAIN_HELP = `Usage: kindling <command> [options]

Commands:
  train     train the CIFAR-10 tutorial network (try: kindling train --dataset synthetic)
  eval      evaluate a checkpoint on the test set
  predict   classify image files with a checkpoint
  doctor    which native addon is in use, and which GPU / MPI libraries were found
  launch    run a script as N data-parallel processes (mpirun, or torchrun-style with --backend nccl): kindling launch --nproc-per-node N script.js

Run 'kindling <command> --help' for the options of a command.

${EXIT_CODES_HELP}`;

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
      process.stdout.write(`${helpText(c.usage, c.description, c.specs)}\n${EXIT_CODES_HELP}`);
      return EXIT.ok;
    }
    let result: { summary: unknown; code: number; silent?: boolean };
    if (cmd === "train") {
      if (positionals.length) throw new UsageError(`kindling train: unexpected argument '${positionals[0]}'`);
      const nproc = opts.nprocPerNode as number | undefined;
      // A stopped airbench94 run resumes without --recipe too. (Data-parallel ranks are the tutorial's: ranks but 0 may
      // lack the checkpoint.)
      const { isAirbenchCheckpoint } = await import("./train_airbench.js");
      if (opts.recipe === "airbench94" || (opts.recipe === undefined && typeof opts.resume === "string" && launchedRank() === null && isAirbenchCheckpoint(opts.resume))) {
        const { resolveAirbenchConfig, trainAirbench } = await import("./train_airbench.js");
        result = await trainAirbench(resolveAirbenchConfig(opts));
      } else if (nproc !== undefined && (nproc > 1 || opts.distBackend !== undefined) && launched() === null) {
        // A bad --resume (missing file, options that contradict it) is refused here, once, before any rank starts.
        const device = opts.resume !== undefined ? resolveConfig(opts).device : (opts.device as string | undefined) ?? "cpu";
        return await launchTrain(rest, { nproc, seed: opts.seed as number | undefined, resume: opts.resume as string | undefined, device,
          distBackend: opts.distBackend as string | undefined, quiet: opts.quiet === true, json: opts.json === true });
      } else {
        if (opts.runs !== undefined) throw new UsageError("--runs is for --recipe airbench94");
        const e = opts.epochs as number | undefined;
        if (e !== undefined && !(Number.isInteger(e) && e >= 1)) throw new UsageError(`kindling train: --epochs expects an integer of at least 1, got ${e}`);
        result = await train(resolveConfig(opts));
      }
    } else if (cmd === "eval") {
      if (positionals.length) throw new UsageError(`kindling eval: unexpected argument '${positionals[0]}'`);
      result = await evalCommand(opts);
    } else if (cmd === "doctor") {
      if (positionals.length) throw new UsageError(`kindling doctor: unexpected argument '${positionals[0]}'`);
      result = doctorCommand(opts);
    } else {
      result = await predictCommand(opts, positionals);
    }
    if (json && !result.silent) process.stdout.write(JSON.stringify(result.summary, null, 2) + "\n");
    return result.code;
  } catch (e) {
    const f = describeFailure(e);
    // Messages may already name the command (the argument parser's do); don't say it twice.
    const text = f.text.replace(new RegExp(`^(kindling )?${cmd}: `), "");
    // A data-parallel rank's error says which rank failed.
    const rank = launchedRank();
    process.stderr.write(`${rank === null ? "" : `[rank ${rank}] `}kindling ${cmd}: ${text}\n`);
    if (f.hint) process.stderr.write(`${f.hint}\n`);
    if (f.kind === "usage") process.stderr.write(`Run 'kindling ${cmd} --help' for the options.\n`);
    if (json) process.stdout.write(JSON.stringify({ command: cmd, error: { kind: f.kind, code: f.code, message: e instanceof Error ? e.message : String(e) } }) + "\n");
    return f.code;
  }
}
