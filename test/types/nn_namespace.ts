// `import { nn, optim } from "kindling"` and namespace types such as nn.Linear.
import { nn, optim, type Tensor } from "kindling";
import * as torch from "kindling";

let layer: nn.Linear = new nn.Linear(4, 2);
layer = new nn.Linear(2, 2);
const seq: nn.Sequential = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
const y: Tensor = seq.forward(torch.randn([3, 4]));

class Net extends nn.Module {
  fc = new nn.Linear(4, 2);
  forward(x: Tensor): Tensor {
    return this.fc.forward(x).relu();
  }
}
const net = new Net();
const out: Tensor = net.call(torch.randn([1, 4]));
const opt: optim.SGD = new optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
const p: nn.Parameter[] = net.parameters();
const loss: Tensor = new nn.CrossEntropyLoss().forward(out, torch.tensor([1], { dtype: torch.int64 }));

// @ts-expect-error call() takes what forward takes
net.call("not a tensor");
// @ts-expect-error call() returns what forward returns
const wrong: string = net.call(torch.randn([1, 4]));
// @ts-expect-error an unknown SGD option
new optim.SGD(net.parameters(), { lr: 0.1, momentun: 0.9 });

export { layer, seq, y, out, opt, p, loss, wrong };
