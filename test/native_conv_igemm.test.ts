// Native conv2d's implicit-GEMM paths (native/cpu/kernels/conv_igemm.inc: 24+ output channels, 64+ taps, one group,
// stride 1 along W): forward, input and weight gradients against float64 references, on every ISA path. The shapes
// cover both tilings (rows >= 12 wide read in place; smaller planes gathered across images), channel counts that
// leave a partial 6-channel panel, rows that are not whole tiles, runs of 1-2 columns (the scalar gather), stride 2
// along H, dilation, uneven padding, batch 1, and work large enough to be split across threads.
import { checkConv, type ConvCfg } from "./helpers/conv_check.js";
import { nativeChecks } from "./helpers/native_harness.js";
import type { NativeAddon } from "../src/backends/cpu/addon.js";

function checkIgemm(a: NativeAddon): void {
  const base = { sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, g: 1, KH: 3, KW: 3 };
  const cfgs: ConvCfg[] = [
    { ...base, N: 2, C: 8, H: 9, W: 19, OC: 26 }, // rows path, 16 + 3 columns, 4 panels + 2 channels
    { ...base, N: 1, C: 10, H: 13, W: 12, OC: 32 }, // batch 1, rows exactly 12 wide
    { ...base, N: 5, C: 16, H: 5, W: 7, OC: 30 }, // packed path, tiles spanning rows and images
    { ...base, N: 9, C: 12, H: 3, W: 3, OC: 24 }, // 3x3 planes: up to 6 runs per tile
    { ...base, N: 11, C: 8, H: 2, W: 2, OC: 25 }, // 2-column rows: 8 runs
    { ...base, N: 20, C: 16, H: 4, W: 1, OC: 24 }, // 1-column rows: 16 runs (scalar gather)
    { ...base, N: 2, C: 8, H: 16, W: 20, OC: 24, sh: 2 }, // stride 2 along H (gx on the older path)
    { ...base, N: 2, C: 8, H: 11, W: 14, OC: 25, dh: 2, dw: 2, ph: 2, pw: 2 }, // dilation 2
    { ...base, N: 1, C: 17, H: 6, W: 13, OC: 24, KH: 2, KW: 4, ph: 0, pw: 2 }, // uneven kernel and padding
    { ...base, N: 3, C: 8, H: 7, W: 9, OC: 31, ph: 0, pw: 0 }, // no padding, packed
    { ...base, N: 16, C: 16, H: 10, W: 12, OC: 32 }, // 17.7 MFLOP: chunks split across threads
    { ...base, N: 24, C: 32, H: 3, W: 3, OC: 36 }, // small planes across threads
    { ...base, N: 2, C: 8, H: 6, W: 6, OC: 48, g: 2 }, // groups: not this path, must still be right
    { ...base, N: 2, C: 8, H: 9, W: 9, OC: 24, sw: 2 }, // stride 2 along W: not this path
  ];
  for (const c of cfgs) checkConv(a, c);
}

nativeChecks(import.meta.url, "conv_igemm", [["igemm", checkIgemm]], ["igemm"]);
