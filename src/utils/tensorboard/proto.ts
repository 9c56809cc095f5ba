// Just enough protobuf encoding for TensorBoard's Event / Summary messages (tensorflow/core/util/event.proto,
// tensorflow/core/framework/summary.proto).

export class ProtoWriter {
  private parts: number[] = [];
  private chunks: Uint8Array[] = [];
  private size = 0;

  private flushParts(): void {
    if (this.parts.length) {
      const b = Uint8Array.from(this.parts);
      this.chunks.push(b);
      this.size += b.length;
      this.parts = [];
    }
  }

  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** int32 / int64 / enum / bool. */
  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(typeof v === "number" ? BigInt(Math.trunc(v)) : v);
    return this;
  }

  double(field: number, v: number): this {
    this.tag(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.parts.push(...b);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(...b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    this.flushParts();
    this.chunks.push(b);
    this.size += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    this.flushParts();
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}
