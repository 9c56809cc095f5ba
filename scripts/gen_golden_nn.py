#!/usr/bin/python3
"""Write test/golden/nn_modules.json from PyTorch 1.13 (CPU): the nn modules, functional ops and autograd
features of issue 14 (test/golden_nn.test.ts replays them).

    /usr/bin/python3 scripts/gen_golden_nn.py

Every module's weights are drawn here from a fixed seed and stored in the case ("state", the module's own
state_dict), so kindling loads them with loadStateDict and never depends on either side's init RNG.

Case: {"name", "inputs": {name: tensor}, "grad": [input names that require grad], "state": {key: tensor},
       "stateKeys": [state_dict keys in order], "repr": str(module) or null, "output": tensor | [tensor, ...],
       "gradOutput": tensor | null, "grads": {input name or state key: tensor}, "extra": {name: tensor}}
grads are d(sum(output[0] * gradOutput)) / d(x). Tensor: {"shape", "dtype", "data": flat row-major list}.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "golden", "nn_modules.json")
NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.bool: "bool"}


def enc(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bool:
        data = [int(v) for v in t.reshape(-1).tolist()]
    elif t.dtype in (torch.float32, torch.float64):
        data = [float(v) for v in t.reshape(-1).tolist()]
        if t.dtype == torch.float32:
            # The shortest decimal that rounds back to the same float32 (Math.fround in the test restores it).
            data = [float(repr(np.float32(v))) for v in data]
        data = [v if math.isfinite(v) else ("nan" if v != v else ("inf" if v > 0 else "-inf")) for v in data]
    else:
        data = [int(v) for v in t.reshape(-1).tolist()]
    return {"shape": list(t.shape), "dtype": NAMES[t.dtype], "data": data}


cases = []
gen = torch.Generator().manual_seed(1234)


def randn(*shape, dtype=torch.float32):
    return torch.randn(tuple(shape), generator=gen, dtype=dtype)


def fill_weights(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(randn(*p.shape) * 0.5)
    return module


def case(name, fn, inputs, grad=(), module=None, extra=None):
    """fn(**inputs) -> Tensor or tuple (first element gets the gradOutput)."""
    inputs = {k: (v.clone().requires_grad_(k in grad) if k in grad else v) for k, v in inputs.items()}
    out = fn(**inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    first = outs[0]
    go = None
    grads = {}
    params = dict(module.named_parameters()) if module is not None else {}
    diff = [(k, inputs[k]) for k in grad] + [(k, p) for k, p in params.items() if p.requires_grad]
    if first.requires_grad and diff:
        go = randn(*first.shape, dtype=first.dtype)
        gs = torch.autograd.grad((first * go).sum(), [t for _, t in diff], allow_unused=True)
        grads = {k: enc(g) for (k, _), g in zip(diff, gs) if g is not None}
    c = {
        "name": name,
        "inputs": {k: enc(v) for k, v in inputs.items()},
        "grad": list(grad),
        "state": {k: enc(v) for k, v in module.state_dict().items()} if module is not None else {},
        "stateKeys": list(module.state_dict().keys()) if module is not None else [],
        "repr": str(module) if module is not None else None,
        "output": [enc(o) for o in outs] if isinstance(out, (tuple, list)) else enc(out),
        "gradOutput": enc(go) if go is not None else None,
        "grads": grads,
    }
    if extra:
        c["extra"] = {k: enc(v) for k, v in extra.items()}
    cases.append(c)


def mod_case(name, module, inputs, grad=("x",), call=None):
    fill_weights(module)
    call = call or (lambda **kw: module(*kw.values()))
    case(name, call, inputs, grad, module)


# ---- normalisation, embedding
mod_case("LayerNorm_4", nn.LayerNorm(4), {"x": randn(2, 3, 4)})
mod_case("LayerNorm_3x4_noaffine", nn.LayerNorm([3, 4], eps=1e-3, elementwise_affine=False), {"x": randn(2, 3, 4)})
mod_case("GroupNorm_2_4", nn.GroupNorm(2, 4), {"x": randn(2, 4, 3, 3)})
mod_case("GroupNorm_3_6_noaffine", nn.GroupNorm(3, 6, eps=1e-4, affine=False), {"x": randn(2, 6, 5)})
mod_case("Embedding_pad1", nn.Embedding(10, 3, padding_idx=1), {"idx": torch.tensor([[1, 4, 9], [1, 0, 4]])}, grad=())
mod_case("Embedding_plain", nn.Embedding(6, 2), {"idx": torch.tensor([5, 0, 5, 2])}, grad=())

# ---- convolutions and pooling
mod_case("Conv1d_s2_p1_g2", nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), {"x": randn(2, 4, 9)})
mod_case("Conv1d_same_d2", nn.Conv1d(3, 2, 3, padding="same", dilation=2, bias=False), {"x": randn(1, 3, 7)})
mod_case("ConvTranspose2d_default", nn.ConvTranspose2d(2, 3, 3), {"x": randn(1, 2, 4, 4)})
mod_case("ConvTranspose2d_full", nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2), {"x": randn(2, 2, 3, 4)})
mod_case("ConvTranspose2d_rect", nn.ConvTranspose2d(3, 2, (2, 3), stride=(2, 1), padding=(0, 1), bias=False), {"x": randn(1, 3, 3, 5)})
# outputPadding >= stride (allowed below the dilation) takes kindling's other path.
mod_case("ConvTranspose2d_outpad_dilation", nn.ConvTranspose2d(2, 2, 3, stride=1, dilation=2, output_padding=1), {"x": randn(1, 2, 3, 4)})
mod_case("ConvTranspose2d_bigpad", nn.ConvTranspose2d(1, 1, 3, stride=3, padding=3, output_padding=2), {"x": randn(1, 1, 4, 4)})
mod_case("AdaptiveAvgPool2d_2x3", nn.AdaptiveAvgPool2d((2, 3)), {"x": randn(2, 2, 5, 7)})
mod_case("AdaptiveAvgPool2d_1", nn.AdaptiveAvgPool2d(1), {"x": randn(2, 3, 4, 5)})
mod_case("AdaptiveAvgPool2d_none_3", nn.AdaptiveAvgPool2d((None, 3)), {"x": randn(1, 2, 4, 6)})
mod_case("AdaptiveAvgPool2d_3d_even", nn.AdaptiveAvgPool2d(2), {"x": randn(3, 4, 4)})

# ---- activations (inputs kept off the kinks, where the subgradient convention would decide)
act_x = torch.linspace(-5.9, 5.7, 24).reshape(2, 12) + 0.013
mod_case("LeakyReLU_0.2", nn.LeakyReLU(0.2), {"x": act_x.clone()})
mod_case("SiLU", nn.SiLU(), {"x": act_x.clone()})
mod_case("Softplus_default", nn.Softplus(), {"x": act_x.clone() * 6})
mod_case("Softplus_b2_t3", nn.Softplus(2, 3), {"x": act_x.clone()})
mod_case("Hardswish", nn.Hardswish(), {"x": act_x.clone()})
mod_case("Unflatten", nn.Unflatten(1, (3, 4)), {"x": randn(2, 12)})

# ---- losses
p = torch.sigmoid(randn(3, 4))
t01 = (randn(3, 4) > 0).float()
tsoft = torch.rand(3, 4, generator=gen)
w4 = torch.rand(4, generator=gen) + 0.5
for red in ("mean", "sum", "none"):
    mod_case(f"BCELoss_{red}", nn.BCELoss(reduction=red), {"x": p.clone(), "t": tsoft.clone()}, grad=("x", "t"))
mod_case("BCELoss_weight", nn.BCELoss(weight=w4), {"x": p.clone(), "t": t01.clone()})
logits = randn(3, 4) * 3
mod_case("BCEWithLogitsLoss_mean", nn.BCEWithLogitsLoss(), {"x": logits.clone(), "t": tsoft.clone()}, grad=("x", "t"))
mod_case("BCEWithLogitsLoss_pos_weight", nn.BCEWithLogitsLoss(weight=w4, pos_weight=torch.tensor([1.0, 2.0, 0.5, 3.0]), reduction="sum"),
         {"x": logits.clone(), "t": tsoft.clone()}, grad=("x", "t"))
a, b = randn(3, 5) * 2, randn(3, 5) * 2
mod_case("SmoothL1Loss_b0.5", nn.SmoothL1Loss(beta=0.5), {"x": a.clone(), "t": b.clone()}, grad=("x", "t"))
mod_case("SmoothL1Loss_b0_none", nn.SmoothL1Loss(beta=0.0, reduction="none"), {"x": a.clone(), "t": b.clone()}, grad=("x", "t"))
mod_case("HuberLoss_d2_sum", nn.HuberLoss(delta=2.0, reduction="sum"), {"x": a.clone(), "t": b.clone()}, grad=("x", "t"))
logq = F.log_softmax(randn(3, 5), 1)
pt = F.softmax(randn(3, 5), 1)
pt[0, 1] = 0.0
# PyTorch's target gradient is NaN where the target is 0 (log 0); that case checks the input gradient only.
mod_case("KLDivLoss_batchmean", nn.KLDivLoss(reduction="batchmean"), {"x": logq.clone(), "t": pt.clone()}, grad=("x",))
mod_case("KLDivLoss_batchmean_tgrad", nn.KLDivLoss(reduction="batchmean"), {"x": logq.clone(), "t": F.softmax(randn(3, 5), 1)}, grad=("x", "t"))
mod_case("KLDivLoss_logtarget_sum", nn.KLDivLoss(reduction="sum", log_target=True), {"x": logq.clone(), "t": F.log_softmax(randn(3, 5), 1)}, grad=("x", "t"))
mod_case("KLDivLoss_mean", nn.KLDivLoss(), {"x": logq.clone(), "t": pt.clone()}, grad=("x",))

ce_x = randn(5, 4) * 2
ce_t = torch.tensor([0, 3, 1, 3, 2])
ce_t_ign = torch.tensor([0, 3, -100, 3, 2])
mod_case("CrossEntropyLoss_weight", nn.CrossEntropyLoss(weight=w4), {"x": ce_x.clone(), "t": ce_t})
mod_case("CrossEntropyLoss_weight_ignore_sum", nn.CrossEntropyLoss(weight=w4, ignore_index=3, reduction="sum"), {"x": ce_x.clone(), "t": ce_t})
mod_case("CrossEntropyLoss_weight_none", nn.CrossEntropyLoss(weight=w4, reduction="none"), {"x": ce_x.clone(), "t": ce_t_ign})
mod_case("CrossEntropyLoss_weight_smooth", nn.CrossEntropyLoss(weight=w4, label_smoothing=0.2), {"x": ce_x.clone(), "t": ce_t_ign})
probs = F.softmax(randn(5, 4), 1)
mod_case("CrossEntropyLoss_probs", nn.CrossEntropyLoss(), {"x": ce_x.clone(), "t": probs.clone()}, grad=("x", "t"))
mod_case("CrossEntropyLoss_probs_weight_smooth_sum", nn.CrossEntropyLoss(weight=w4, label_smoothing=0.1, reduction="sum"), {"x": ce_x.clone(), "t": probs.clone()})
mod_case("CrossEntropyLoss_spatial_weight", nn.CrossEntropyLoss(weight=w4[:3]), {"x": randn(2, 3, 2, 2), "t": torch.tensor([[[0, 2], [1, 1]], [[2, 2], [0, 1]]])})
mod_case("NLLLoss_weight", nn.NLLLoss(weight=w4), {"x": F.log_softmax(ce_x, 1), "t": ce_t_ign})
mod_case("NLLLoss_weight_none", nn.NLLLoss(weight=w4, reduction="none"), {"x": F.log_softmax(ce_x, 1), "t": ce_t})

# ---- functional
img = randn(1, 2, 3, 4)
case("interpolate_nearest_size", lambda x: F.interpolate(x, size=(5, 7), mode="nearest"), {"x": img.clone()}, ("x",))
case("interpolate_nearest_scale1.5", lambda x: F.interpolate(x, scale_factor=1.5, mode="nearest"), {"x": img.clone()}, ("x",))
case("interpolate_nearest_down", lambda x: F.interpolate(x, size=(2, 3)), {"x": img.clone()}, ("x",))
case("interpolate_bilinear_size", lambda x: F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=False), {"x": img.clone()}, ("x",))
case("interpolate_bilinear_ac", lambda x: F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=True), {"x": img.clone()}, ("x",))
case("interpolate_bilinear_scale2", lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), {"x": img.clone()}, ("x",))
case("interpolate_bilinear_scale0.6", lambda x: F.interpolate(x, scale_factor=0.6, mode="bilinear"), {"x": randn(1, 1, 5, 6)}, ("x",))
case("interpolate_linear_ac", lambda x: F.interpolate(x, size=7, mode="linear", align_corners=True), {"x": randn(2, 1, 4)}, ("x",))
case("one_hot", lambda t: F.one_hot(t, 5), {"t": torch.tensor([[0, 3], [4, 1]])})
case("one_hot_auto", lambda t: F.one_hot(t), {"t": torch.tensor([2, 0, 1])})
case("normalize_p2_dim1", lambda x: F.normalize(x), {"x": randn(3, 4)}, ("x",))
case("normalize_p1_dim0", lambda x: F.normalize(x, p=1.0, dim=0), {"x": randn(3, 4)}, ("x",))
case("embedding_fn", lambda t, w: F.embedding(t, w, padding_idx=2), {"t": torch.tensor([[2, 0], [1, 2]]), "w": randn(4, 3)}, ("w",))
case("layer_norm_fn", lambda x, w, b: F.layer_norm(x, (4,), w, b, 1e-5), {"x": randn(3, 4), "w": randn(4), "b": randn(4)}, ("x", "w", "b"))
case("group_norm_fn", lambda x, w, b: F.group_norm(x, 2, w, b), {"x": randn(2, 4, 3), "w": randn(4), "b": randn(4)}, ("x", "w", "b"))
case("conv_transpose2d_fn", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1), {"x": randn(1, 2, 3, 3), "w": randn(2, 3, 3, 3), "b": randn(3)}, ("x", "w", "b"))
case("conv1d_fn", lambda x, w: F.conv1d(x, w, stride=2), {"x": randn(2, 3, 8), "w": randn(4, 3, 3)}, ("x", "w"))

q, k, v = randn(2, 2, 3, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 4)
bool_mask = torch.tensor([[True, True, False, True, False], [True, False, True, True, True], [False, True, True, True, True]])
case("sdpa_plain", lambda q, k, v: F._scaled_dot_product_attention(q, k, v, None, 0.0, False, False)[0], {"q": q, "k": k, "v": v}, ("q", "k", "v"))
case("sdpa_bool_mask", lambda q, k, v, m: F._scaled_dot_product_attention(q, k, v, m, 0.0, False, False)[0], {"q": q, "k": k, "v": v, "m": bool_mask}, ("q", "k", "v"))
case("sdpa_causal", lambda q, k, v: F._scaled_dot_product_attention(q, k, v, None, 0.0, False, True)[0], {"q": q, "k": k[:, :, :3], "v": v[:, :, :3]}, ("q", "k", "v"))
# A float mask is added to the scores (PyTorch 2's scaled_dot_product_attention; 1.13's private one takes bool only).
fmask = randn(3, 5)
case("sdpa_float_mask", lambda q, k, v, m: torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]) + m, -1) @ v,
     {"q": q, "k": k, "v": v, "m": fmask}, ("q", "k", "v", "m"))

# ---- attention modules (dropout 0 so the outputs are deterministic)
E = 8
mha = nn.MultiheadAttention(E, 2, batch_first=True)
kpm = torch.tensor([[False, False, False, True], [False, True, False, False]])
am = torch.tensor([[False, True, False, False], [False, False, False, True], [True, False, False, False]])
mod_case("MultiheadAttention_batch_first_masks", mha, {"q": randn(2, 3, E), "k": randn(2, 4, E), "v": randn(2, 4, E), "kpm": kpm, "am": am},
         grad=("q", "k", "v"), call=lambda q, k, v, kpm, am: mha(q, k, v, key_padding_mask=kpm, attn_mask=am))
mha2 = nn.MultiheadAttention(E, 4)
mod_case("MultiheadAttention_seq_first_float_mask", mha2, {"x": randn(3, 2, E), "am": randn(3, 3)},
         call=lambda x, am: mha2(x, x, x, attn_mask=am, average_attn_weights=False))
mha3 = nn.MultiheadAttention(E, 2, bias=False)
mod_case("MultiheadAttention_unbatched_no_bias", mha3, {"x": randn(3, E)}, call=lambda x: mha3(x, x, x))

for nf, act, bf in ((False, "relu", False), (True, "gelu", True)):
    layer = nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0, activation=act, batch_first=bf, norm_first=nf)
    shape = (2, 5, E) if bf else (5, 2, E)
    mod_case(f"TransformerEncoderLayer_nf{int(nf)}_{act}", layer, {"x": randn(*shape)},
             call=lambda x, layer=layer: layer(x))
layer = nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0, batch_first=True)
enc_ = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(E))
skpm = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
causal = torch.triu(torch.full((5, 5), float("-inf")), diagonal=1)
mod_case("TransformerEncoder_2_norm_masks", enc_, {"x": randn(2, 5, E), "kpm": skpm, "mask": causal},
         call=lambda x, kpm, mask: enc_(x, mask=mask, src_key_padding_mask=kpm))

# ---- nn.utils
def clip_case(name, norm_type, max_norm=1.0):
    gs = [randn(3, 4), randn(5)]
    ps = [torch.zeros_like(g, requires_grad=True) for g in gs]
    for pp, g in zip(ps, gs):
        pp.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
    cases.append({"name": name, "inputs": {"g0": enc(gs[0]), "g1": enc(gs[1])}, "grad": [], "state": {}, "stateKeys": [], "repr": None,
                  "output": [enc(total), enc(ps[0].grad), enc(ps[1].grad)], "gradOutput": None, "grads": {},
                  "extra": {"maxNorm": enc(torch.tensor(float(max_norm), dtype=torch.float64)),
                            "normType": enc(torch.tensor(float(norm_type), dtype=torch.float64))}})

clip_case("clip_grad_norm_2", 2.0)
clip_case("clip_grad_norm_inf", float("inf"), 0.5)
clip_case("clip_grad_norm_1.5", 1.5, 2.0)
clip_case("clip_grad_norm_noclip", 2.0, 100.0)

# ---- higher-order autograd
# Gradient penalty (WGAN-GP style) through Linear, tanh, gelu, sigmoid, softmax, matmul, sums and means.
net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 4), nn.GELU(), nn.Linear(4, 2))
fill_weights(net)
xs = randn(4, 3).requires_grad_(True)
outgp = net(xs).sigmoid().softmax(1)[:, 0].sum() + net(xs).pow(2).mean()
(gx,) = torch.autograd.grad(outgp, xs, create_graph=True)
penalty = ((gx.pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
pgrads = torch.autograd.grad(penalty, list(net.parameters()))
cases.append({"name": "autograd_gradient_penalty", "inputs": {"x": enc(xs)}, "grad": [], "state": {k: enc(v) for k, v in net.state_dict().items()},
              "stateKeys": list(net.state_dict().keys()), "repr": str(net), "output": [enc(penalty), enc(gx)], "gradOutput": None,
              "grads": {k: enc(g) for (k, _), g in zip(net.named_parameters(), pgrads)}})

# Hessian-vector product of a softmax-regression loss with an L2 term and relu features.
W = (randn(3, 4) * 0.5).requires_grad_(True)
bvec = (randn(3) * 0.5).requires_grad_(True)
X = randn(6, 4)
Y = F.one_hot(torch.tensor([0, 2, 1, 1, 0, 2]), 3).float()
vW, vb = randn(3, 4), randn(3)
logits_ = F.relu(X) @ W.t() + bvec + torch.tanh(X @ W.t())
loss_h = -(Y * torch.log_softmax(logits_, 1)).sum(1).mean() + 0.1 * (W * W).sum() + (bvec.exp()).mean()
gW, gb = torch.autograd.grad(loss_h, [W, bvec], create_graph=True)
hW, hb = torch.autograd.grad((gW * vW).sum() + (gb * vb).sum(), [W, bvec])
cases.append({"name": "autograd_hvp", "inputs": {"W": enc(W), "b": enc(bvec), "X": enc(X), "Y": enc(Y), "vW": enc(vW), "vb": enc(vb)},
              "grad": [], "state": {}, "stateKeys": [], "repr": None, "output": [enc(loss_h), enc(gW), enc(gb), enc(hW), enc(hb)],
              "gradOutput": None, "grads": {}})

# Reprs of modules the cases above don't construct.
reprs = {
    "ModuleDict": str(nn.ModuleDict({"a": nn.ReLU(), "b": nn.Linear(2, 3)})),
    "ParameterList": str(nn.ParameterList([nn.Parameter(torch.zeros(3, 4)), nn.Parameter(torch.zeros(2, dtype=torch.float64))])),
    "Dropout2d": str(nn.Dropout2d(0.25)),
    "TransformerEncoderLayer_default": str(nn.TransformerEncoderLayer(8, 2)),
    "Embedding_pad": str(nn.Embedding(10, 3, padding_idx=-1)),
    "AdaptiveAvgPool2d_1": str(nn.AdaptiveAvgPool2d(1)),
}
moddict_keys = list(nn.ModuleDict({"enc": nn.Linear(2, 3), "bn": nn.BatchNorm1d(3)}).state_dict().keys())

with open(OUT, "w") as f:
    json.dump({"generator": "scripts/gen_golden_nn.py", "torch": torch.__version__, "cases": cases, "reprs": reprs,
               "moduleDictKeys": moddict_keys}, f, separators=(",", ":"))
print(f"wrote {len(cases)} cases to {OUT} ({os.path.getsize(OUT)} bytes)")
