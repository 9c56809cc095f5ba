// Modules and Parameters that nn.Module can't see (#private fields, non-enumerable properties, plain arrays) are
// refused at the module's first enumeration with a message saying how to hold them, never dropped silently.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";

const { nn } = torch;
const HOW = /cannot see: it is held in a #private field.*registerModule\("fc", module\)/s;

class PrivateLayer extends nn.Module {
  fc1 = new nn.Linear(4, 3);
  #fc2 = new nn.Linear(3, 2);
  forward(x: torch.Tensor): torch.Tensor {
    return this.#fc2.forward(this.fc1.forward(x));
  }
}

class PrivateParam extends nn.Module {
  #scale = new nn.Parameter(torch.ones([3]));
  forward(x: torch.Tensor): torch.Tensor {
    return x.mul(this.#scale);
  }
}

class PlainArray extends nn.Module {
  layers = [new nn.Linear(2, 2), new nn.Linear(2, 2)];
  forward(x: torch.Tensor): torch.Tensor {
    return this.layers.reduce((h, l) => l.forward(h), x);
  }
}

class Hidden extends nn.Module {
  constructor() {
    super();
    Object.defineProperty(this, "head", { value: new nn.Linear(2, 2), enumerable: false });
  }
  forward(x: torch.Tensor): torch.Tensor {
    return x;
  }
}

test("a #private submodule is refused at parameters(), naming the class and the fix", () => {
  const net = new PrivateLayer();
  assert.throws(() => net.parameters(), (e: Error) => /^PrivateLayer built a Linear in its constructor/.test(e.message) && HOW.test(e.message));
  // Every later enumeration fails the same way: nothing is dropped quietly after the first error.
  assert.throws(() => net.stateDict(), /PrivateLayer built a Linear/);
  assert.throws(() => net.to("float64"), /PrivateLayer built a Linear/);
});

test("a #private Parameter, a plain array of modules and a non-enumerable property are refused too", () => {
  assert.throws(() => new PrivateParam().parameters(), /PrivateParam built a Parameter of shape \[3\] in its constructor/);
  assert.throws(() => new PlainArray().stateDict(), /PlainArray built a Linear, a Linear in its constructor.*nn\.ModuleList/s);
  assert.throws(() => new Hidden().parameters(), /Hidden built a Linear/);
});

test("registered, nested, shared and loop-built modules pass; the check waits for the constructor to return", () => {
  class Registered extends nn.Module {
    #fc = new nn.Linear(2, 2);
    constructor() {
      super();
      this.registerModule("fc", this.#fc);
    }
    forward(x: torch.Tensor): torch.Tensor {
      return this.#fc.forward(x);
    }
  }
  assert.equal(new Registered().parameters().length, 2);

  class Tied extends nn.Module {
    enc = new nn.Linear(3, 3);
    dec = new nn.Linear(3, 3);
    body: torch.nn.Sequential;
    constructor() {
      super();
      this.dec.weight = this.enc.weight;
      const blocks = [];
      for (let i = 0; i < 3; i++) blocks.push(new nn.Linear(3, 3));
      // An enumeration inside the constructor, before the last field: not checked yet, not an error.
      assert.equal(this.parameters().length, 3);
      this.body = new nn.Sequential(...blocks);
    }
    forward(x: torch.Tensor): torch.Tensor {
      return x;
    }
  }
  assert.equal(new Tied().parameters().length, 3 + 6);

  // Modules built one after another (or in a loop) by the same caller are siblings, not each other's children.
  const list: torch.nn.Linear[] = [];
  for (let i = 0; i < 3; i++) list.push(new nn.Linear(1, 1));
  assert.deepEqual(list.map((l) => l.parameters().length), [2, 2, 2]);
  const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU(), new nn.Linear(2, 1));
  assert.equal(seq.parameters().length, 4);
});
