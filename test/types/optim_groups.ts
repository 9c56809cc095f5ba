// Compile-time checks (tsc --strict, run by `npm test`'s tsc step): each @ts-expect-error line must be a type error,
// or the build fails. The function is never called; the file only has to type-check.
import * as torch from "kindling";

export function optimizerTypes(p: torch.Tensor, q: torch.Tensor): void {
  new torch.optim.SGD([p], { lr: 0.1, momentum: 0.9 });
  new torch.optim.SGD([{ params: [p], lr: 0.1 }, { params: [q], lr: 0.2, weightDecay: 1e-4 }], { momentum: 0.85, nesterov: true });
  new torch.optim.SGD([{ params: [p] }, { params: [q], lr: 0.2 }], { lr: 0.1 });
  // @ts-expect-error SGD has no default learning rate
  new torch.optim.SGD([p], {});
  // @ts-expect-error ...nor when the options are left out
  new torch.optim.SGD([p]);
  // @ts-expect-error a group without lr needs a default lr
  new torch.optim.SGD([{ params: [p] }], { momentum: 0.9 });
  // @ts-expect-error lr is a number
  new torch.optim.SGD([p], { lr: "0.1" });
  new torch.optim.AdamW([{ params: [p], weightDecay: 0 }, { params: [q] }], { lr: 1e-3 });
  const opt = new torch.optim.SGD([p], { lr: 0.1 });
  const lr: number = opt.paramGroups[0]!.lr;
  opt.paramGroups[0]!.lr = lr * 2;
  // @ts-expect-error lr is a number
  opt.paramGroups[0]!.lr = "fast";
  new torch.optim.lrScheduler.LambdaLR(opt, (e) => 0.9 ** e);
}
