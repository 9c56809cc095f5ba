// The benchmark workloads, shaped exactly like bench/torch_bench.py's.
import * as torch from "kindling";
export { TutorialNet } from "../src/models/tutorial_net.js";

const { nn } = torch;

function group(cin: number, cout: number): torch.nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(cin, cout, 3, { padding: 1, bias: false }),
    new nn.MaxPool2d(2),
    new nn.BatchNorm2d(cout),
    new nn.GELU(),
    new nn.Conv2d(cout, cout, 3, { padding: 1, bias: false }),
    new nn.BatchNorm2d(cout),
    new nn.GELU(),
  );
}

/** airbench94's shape: 2x2 whitening conv, three conv groups (64, 256, 256), maxpool 3, linear head. */
export function airbenchNet(): torch.nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(3, 24, 2),
    group(24, 64),
    group(64, 256),
    group(256, 256),
    new nn.MaxPool2d(3),
    new nn.Flatten(),
    new nn.Linear(256, 10, false),
  );
}

/** Forward FLOPs per image of the airbench-shaped net (2 per multiply-add; convs and the linear head). */
export function airbenchFlopsPerImage(): number {
  const conv = (cin: number, cout: number, k: number, hw: number) => 2 * cin * cout * k * k * hw * hw;
  let f = conv(3, 24, 2, 31);
  f += conv(24, 64, 3, 31) + conv(64, 64, 3, 15);
  f += conv(64, 256, 3, 15) + conv(256, 256, 3, 7);
  f += conv(256, 256, 3, 7) + conv(256, 256, 3, 3);
  return f + 2 * 256 * 10;
}
