// Plain-JS stand-ins for the numpy objects a safe unpickle may produce.
// They hold data only: nothing here can run code from the pickle.

export type NdTypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** numpy kind+size codes we can map onto a JS typed array ("u1", "f4", "b1", ...). */
export type NdDtypeCode = "b1" | "u1" | "i1" | "u2" | "i2" | "u4" | "i4" | "u8" | "i8" | "f4" | "f8";

interface DtypeInfo {
  itemsize: number;
  make: (buf: ArrayBuffer, byteOffset: number, length: number) => NdTypedArray;
}

const DTYPES: Record<NdDtypeCode, DtypeInfo> = {
  b1: { itemsize: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  u1: { itemsize: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  i1: { itemsize: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  u2: { itemsize: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  i2: { itemsize: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  u4: { itemsize: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  i4: { itemsize: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  u8: { itemsize: 8, make: (b, o, n) => new BigUint64Array(b, o, n) },
  i8: { itemsize: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  f4: { itemsize: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  f8: { itemsize: 8, make: (b, o, n) => new Float64Array(b, o, n) },
};

// numpy accepts many spellings in dtype(...); pickles use the short "kind+size" form,
// but older writers sometimes use names.
const ALIASES: Record<string, NdDtypeCode> = {
  "?": "b1", bool: "b1", b1: "b1",
  B: "u1", uint8: "u1", u1: "u1",
  b: "i1", int8: "i1", i1: "i1",
  uint16: "u2", u2: "u2", int16: "i2", i2: "i2",
  uint32: "u4", u4: "u4", int32: "i4", i4: "i4",
  uint64: "u8", u8: "u8", int64: "i8", i8: "i8",
  float32: "f4", f4: "f4", float64: "f8", f8: "f8", d: "f8", f: "f4",
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A numpy dtype as far as a pickle describes it. Mutable until BUILD has applied its state. */
export class NdDtype {
  code: NdDtypeCode;
  /** "<" little, ">" big, "|" not applicable (1-byte types). */
  byteorder: "<" | ">" | "|";

  constructor(spec: string) {
    let s = spec;
    let order: "<" | ">" | "|" | undefined;
    if (s[0] === "<" || s[0] === ">" || s[0] === "|" || s[0] === "=") {
      order = s[0] === "=" ? "<" : (s[0] as "<" | ">" | "|");
      s = s.slice(1);
    }
    const code = Object.hasOwn(ALIASES, s) ? ALIASES[s] : undefined;
    if (code === undefined) {
      throw new Error(`numpy dtype '${spec}' is not supported (supported: bool, int8..int64, uint8..uint64, float32, float64)`);
    }
    this.code = code;
    this.byteorder = DTYPES[code].itemsize === 1 ? "|" : (order ?? "<");
  }

  get itemsize(): number {
    return DTYPES[this.code].itemsize;
  }

  toString(): string {
    return `${this.byteorder}${this.code}`;
  }
}

/** A numpy array: C-order (row-major) unless `order` says "F". */
export class NdArray {
  dtype: NdDtype;
  shape: number[];
  order: "C" | "F";
  data: NdTypedArray;

  constructor(dtype: NdDtype, shape: number[], data: NdTypedArray, order: "C" | "F" = "C") {
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
    this.order = order;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/**
 * Wrap raw bytes as a typed array of `dtype`, byte-swapping big-endian data.
 * Views the input when alignment and byte order allow; copies otherwise.
 */
export function typedArrayFromBytes(bytes: Uint8Array, dtype: NdDtype, count: number): NdTypedArray {
  const info = DTYPES[dtype.code];
  if (bytes.byteLength !== count * info.itemsize) {
    throw new Error(`numpy array data has ${bytes.byteLength} bytes, expected ${count} x ${info.itemsize}`);
  }
  const swap = info.itemsize > 1 && (dtype.byteorder === ">") === HOST_LITTLE_ENDIAN;
  if (!swap && bytes.byteOffset % info.itemsize === 0) {
    return info.make(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  if (swap) {
    const n = info.itemsize;
    for (let i = 0; i < copy.length; i += n) copy.subarray(i, i + n).reverse();
  }
  return info.make(copy.buffer, 0, count);
}
