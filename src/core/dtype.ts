// Dtypes and the typed arrays that hold them on the CPU. int64 is held in a Float64Array: exact for |v| < 2^53,
// which covers labels and indices, and keeps every kernel on plain JS numbers instead of BigInt.

export type DType = "float32" | "float64" | "int32" | "int64" | "uint8" | "bool";

export const float32: DType = "float32";
export const float64: DType = "float64";
export const int32: DType = "int32";
export const int64: DType = "int64";
export const uint8: DType = "uint8";
export const bool: DType = "bool";
export const float: DType = "float32";
export const double: DType = "float64";
export const long: DType = "int64";
export const int: DType = "int32";

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "int64", "uint8", "bool"];

export interface TypedArrayCtor {
  new (n: number): TypedArray;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
}

export function arrayCtor(dtype: DType): TypedArrayCtor {
  switch (dtype) {
    case "float32":
      return Float32Array;
    case "float64":
    case "int64":
      return Float64Array;
    case "int32":
      return Int32Array;
    case "uint8":
    case "bool":
      return Uint8Array;
  }
}

export function allocArray(dtype: DType, n: number): TypedArray {
  return new (arrayCtor(dtype))(n);
}

export function isFloating(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

export function isIntegral(dtype: DType): boolean {
  return !isFloating(dtype) && dtype !== "bool";
}

export function itemSize(dtype: DType): number {
  switch (dtype) {
    case "float64":
    case "int64":
      return 8;
    case "float32":
    case "int32":
      return 4;
    default:
      return 1;
  }
}

/** Converts a JS number into the value a dtype stores (truncation for ints, 0/1 for bool), like a C cast. */
export function castValue(dtype: DType, v: number): number {
  switch (dtype) {
    case "bool":
      return v !== 0 ? 1 : 0;
    case "int32":
      return v | 0;
    case "int64":
      return Number.isFinite(v) ? Math.trunc(v) : 0;
    case "uint8":
      return (Math.trunc(v) & 255) >>> 0;
    default:
      return v;
  }
}

const RANK: Record<DType, number> = { bool: 0, uint8: 1, int32: 2, int64: 3, float32: 4, float64: 5 };

/** Type promotion for two tensor operands (PyTorch's category rules for the dtypes we have). */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if ((a === "uint8" && b === "int32") || (a === "int32" && b === "uint8")) return "int32";
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * PyTorch's result_type for two tensor operands of ndim aDim and bDim: a 0-dim tensor only widens a dimensioned
 * operand when it belongs to a higher category (bool < integral < floating), so float32 + 0-dim float64 stays
 * float32 and uint8 + 0-dim int64 stays uint8, while int32 + 0-dim float64 is float64.
 */
export function resultTypeOf(a: DType, aDim: number, b: DType, bDim: number): DType {
  if ((aDim === 0) === (bDim === 0)) return promoteTypes(a, b);
  const [dim, zero] = aDim === 0 ? [b, a] : [a, b];
  if (isFloating(dim)) return dim;
  if (dim === "bool" || isFloating(zero)) return promoteTypes(dim, zero);
  return dim;
}

/** PyTorch's canCast: an in-place result may not go from floating to integral, nor from non-bool to bool. */
export function canCast(from: DType, to: DType): boolean {
  if (isFloating(from) && !isFloating(to)) return false;
  return !(from !== "bool" && to === "bool");
}

/**
 * Promotion of a tensor with a JS number: the number never widens a floating tensor; a non-integer number
 * makes an integral tensor float32 (PyTorch's default dtype).
 */
export function promoteWithScalar(a: DType, v: number): DType {
  if (isFloating(a)) return a;
  if (!Number.isInteger(v)) return "float32";
  return a === "bool" ? "int64" : a;
}

export function assertDType(d: unknown): DType {
  if (typeof d === "string" && (DTYPES as readonly string[]).includes(d)) return d as DType;
  throw new TypeError(`unknown dtype ${String(d)}; expected one of ${DTYPES.join(", ")}`);
}
