// torch.utils.tensorboard.SummaryWriter for kindling: writes TensorBoard event files (TFRecord-framed Event
// protobufs) with scalars and PNG images. Readable by TensorBoard: `tensorboard --logdir runs`.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Tensor } from "../../tensor/tensor.js";
import { withPath } from "../../io/atomic.js";
import { encodePng } from "../../vision/png.js";
import { ProtoWriter } from "./proto.js";
import { tfRecord } from "./record.js";

export interface SummaryWriterOptions {
  /** Write buffered events at least this often (seconds, checked when events are added). Default 120. */
  flushSecs?: number;
  /** Buffered events that trigger a write. Default 10. */
  maxQueue?: number;
  /** Appended to the file name. */
  filenameSuffix?: string;
  /**
   * Resuming a run: TensorBoard drops events of earlier files with step >= purgeStep (they were logged after the
   * checkpoint this run resumes from).
   */
  purgeStep?: number;
}

export type DataFormats = "CHW" | "HWC" | "HW";

let fileCounter = 0;

export class SummaryWriter {
  readonly logDir: string;
  readonly file: string;
  private queue: Uint8Array[] = [];
  private fd: number | null;
  private lastFlush = Date.now();
  private readonly flushMs: number;
  private readonly maxQueue: number;

  constructor(logDir?: string, o: SummaryWriterOptions = {}) {
    this.logDir = logDir ?? path.join("runs", new Date().toISOString().replace(/[:.]/g, "-") + "_" + os.hostname());
    fs.mkdirSync(this.logDir, { recursive: true });
    const now = Date.now() / 1000;
    this.file = path.join(
      this.logDir,
      `events.out.tfevents.${Math.floor(now)}.${os.hostname()}.${process.pid}.${fileCounter++}${o.filenameSuffix ?? ""}`,
    );
    this.fd = fs.openSync(this.file, "a");
    this.flushMs = (o.flushSecs ?? 120) * 1000;
    this.maxQueue = o.maxQueue ?? 10;
    this.queue.push(tfRecord(new ProtoWriter().double(1, now).string(3, "brain.Event:2").finish()));
    if (o.purgeStep !== undefined) {
      // Event.session_log (field 6) = SessionLog { status (1): START = 1 }, at step purgeStep.
      this.queue.push(tfRecord(new ProtoWriter().double(1, now).int(2, o.purgeStep).message(6, new ProtoWriter().int(1, 1)).finish()));
    }
    this.flush();
  }

  private addSummaryValue(value: ProtoWriter, step: number | undefined, walltime: number | undefined): void {
    const ev = new ProtoWriter().double(1, walltime ?? Date.now() / 1000);
    if (step !== undefined) ev.int(2, step);
    ev.message(5, new ProtoWriter().message(1, value));
    this.queue.push(tfRecord(ev.finish()));
    if (this.queue.length >= this.maxQueue || Date.now() - this.lastFlush >= this.flushMs) this.flush();
  }

  /** A scalar (TensorBoard's "Scalars" tab). */
  addScalar(tag: string, value: number | Tensor, step?: number, walltime?: number): void {
    const v = typeof value === "number" ? value : value.item();
    this.addSummaryValue(new ProtoWriter().string(1, tag).float(2, v), step, walltime);
  }

  /** Several scalars under one main tag (each as `main/sub`). */
  addScalars(mainTag: string, values: Record<string, number>, step?: number, walltime?: number): void {
    for (const [k, v] of Object.entries(values)) this.addScalar(`${mainTag}/${k}`, v, step, walltime);
  }

  /**
   * An image (TensorBoard's "Images" tab): a float tensor with values in [0, 1] or a uint8 tensor, CHW by default
   * (1, 3 or 4 channels), stored PNG-encoded.
   */
  addImage(tag: string, img: Tensor, step?: number, o: { dataformats?: DataFormats; walltime?: number } = {}): void {
    const { width, height, channels, data } = toHwcU8(img, o.dataformats ?? "CHW");
    const png = encodePng({ width, height, channels, data });
    const image = new ProtoWriter().int(1, height).int(2, width).int(3, channels).bytes(4, png);
    this.addSummaryValue(new ProtoWriter().string(1, tag).message(4, image), step, o.walltime);
  }

  /** A text note (TensorBoard's "Text" tab, via the text plugin's tensor summary). */
  addText(tag: string, text: string, step?: number, walltime?: number): void {
    // Value.metadata (9) = SummaryMetadata { plugin_data (1) = PluginData { plugin_name (1) = "text" } };
    // Value.tensor (8) = TensorProto { dtype (1) = DT_STRING (7), tensor_shape (2) = {dim (2) {size (1) = 1}}, string_val (8) }.
    const meta = new ProtoWriter().message(1, new ProtoWriter().string(1, "text"));
    const shape = new ProtoWriter().message(2, new ProtoWriter().int(1, 1));
    const tensor = new ProtoWriter().int(1, 7).message(2, shape).string(8, text);
    this.addSummaryValue(new ProtoWriter().string(1, tag).message(9, meta).message(8, tensor), step, walltime);
  }

  /**
   * Writes buffered events to disk; with `sync`, also fsyncs the file, so the events survive a crash (a training
   * loop does this before it writes a checkpoint).
   */
  flush(o: { sync?: boolean } = {}): void {
    if (this.fd === null) return;
    const fd = this.fd;
    withPath(this.file, () => {
      for (const r of this.queue) {
        let off = 0;
        while (off < r.length) off += fs.writeSync(fd, r, off, r.length - off);
      }
      this.queue = [];
      if (o.sync) fs.fsyncSync(fd);
    });
    this.lastFlush = Date.now();
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    try {
      fs.fsyncSync(this.fd);
    } catch {
      /* best effort */
    }
    fs.closeSync(this.fd);
    this.fd = null;
  }
}

function toHwcU8(img: Tensor, fmt: DataFormats): { width: number; height: number; channels: 1 | 3 | 4; data: Uint8Array } {
  const t = img.device === "cpu" ? img : img.cpu();
  let c: number, h: number, w: number;
  let hwc: (y: number, x: number, ch: number) => number;
  const src = t.contiguous().dataSync();
  if (fmt === "HW") {
    if (t.ndim !== 2) throw new Error(`addImage: dataformats HW needs a 2-D tensor, got shape [${t.shape}]`);
    [h, w] = t.shape as [number, number];
    c = 1;
    hwc = (y, x) => y * w + x;
  } else {
    if (t.ndim !== 3) throw new Error(`addImage: dataformats ${fmt} needs a 3-D tensor, got shape [${t.shape}]`);
    if (fmt === "CHW") {
      [c, h, w] = t.shape as [number, number, number];
      hwc = (y, x, ch) => (ch * h + y) * w + x;
    } else {
      [h, w, c] = t.shape as [number, number, number];
      hwc = (y, x, ch) => (y * w + x) * c + ch;
    }
  }
  if (c !== 1 && c !== 3 && c !== 4) throw new Error(`addImage: images need 1, 3 or 4 channels, got ${c} (shape [${t.shape}], ${fmt})`);
  const scale = t.dtype === "float32" || t.dtype === "float64" || t.dtype === "bool" ? 255 : 1;
  const data = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        const v = src[hwc(y, x, ch)]! * scale;
        data[(y * w + x) * c + ch] = v >= 255 ? 255 : v > 0 ? Math.round(v) : 0;
      }
    }
  }
  return { width: w, height: h, channels: c as 1 | 3 | 4, data };
}
