// A small built-in 10-class image set (32x32 RGB, uint8 HWC like CIFAR-10), generated deterministically from a
// seed, so `kindling train --dataset synthetic` runs the whole pipeline offline in seconds. Each class has its own
// background hue (with jitter, so neighbouring hues overlap a little) and its own foreground shape, plus noise.

import { Generator } from "../tensor/random.js";

export const SYNTHETIC_CLASSES = ["red", "orange", "yellow", "lime", "green", "cyan", "azure", "blue", "violet", "magenta"] as const;

export interface SyntheticArrays {
  /** N x 32 x 32 x 3 uint8, HWC, in shared memory (DataLoader workers see it without copies). */
  data: Uint8Array;
  targets: number[];
  classes: string[];
}

function hsv(h: number, s: number, v: number): [number, number, number] {
  h = ((h % 360) + 360) % 360;
  const c = v * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = v - c;
  const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}

/** `n` images with balanced labels in a seeded random order. `train` and test sets use different streams. */
export function syntheticArrays(n: number, seed = 0, train = true): SyntheticArrays {
  const g = new Generator(seed * 2 + (train ? 0 : 1) + 0x51ed);
  const S = 32;
  const data = new Uint8Array(new SharedArrayBuffer(n * S * S * 3));
  const targets: number[] = [];
  for (let i = 0; i < n; i++) targets.push(i % 10);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(g.random() * (i + 1));
    [targets[i], targets[j]] = [targets[j]!, targets[i]!];
  }
  for (let i = 0; i < n; i++) {
    const c = targets[i]!;
    const bg = hsv(c * 36 + (g.random() - 0.5) * 30, 0.55 + 0.4 * g.random(), 0.45 + 0.45 * g.random());
    const fg = hsv(c * 36 + 180 + (g.random() - 0.5) * 60, 0.3 * g.random(), 0.75 + 0.25 * g.random());
    const shape = c % 5;
    const cx = 8 + g.random() * 16, cy = 8 + g.random() * 16, r = 4 + g.random() * 6;
    const base = i * S * S * 3;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const dx = x - cx, dy = y - cy;
        let inside: boolean;
        switch (shape) {
          case 0: inside = dx * dx + dy * dy <= r * r; break; // disc
          case 1: inside = Math.abs(dx) <= r && Math.abs(dy) <= r; break; // square
          case 2: inside = Math.abs(dy) <= r / 3; break; // horizontal band
          case 3: inside = Math.abs(dx) <= r / 3; break; // vertical band
          default: inside = Math.abs(dx - dy) <= r / 3 || Math.abs(dx + dy) <= r / 3; // cross
        }
        const col = inside ? fg : bg;
        const shade = 1 - 0.25 * (y / S); // a vertical gradient
        for (let k = 0; k < 3; k++) {
          const v = col[k]! * shade + g.normal() * 14;
          data[base + (y * S + x) * 3 + k] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
        }
      }
    }
  }
  return { data, targets, classes: [...SYNTHETIC_CLASSES] };
}
