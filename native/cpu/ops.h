// The native op codes, declared once. An op's code is its position in these lists; the addon exports the lists as
// `unaryOps` / `binaryOps` and the TypeScript loader derives every code from them by name, refusing an addon whose
// names disagree with the op table in src/ops/{unary,binary}.ts. New ops go at the end (the playgrounds in
// native/dev use the first codes by number).
#pragma once

// X(name): unary elementwise ops (float -> float).
#define KD_UNARY_OPS(X)                                                                                                \
  X(neg) X(exp) X(log) X(sqrt) X(abs) X(relu) X(gelu) X(sigmoid) X(tanh) X(rsqrt) X(reciprocal) X(square) X(sign)     \
  X(sin) X(cos) X(floor) X(ceil) X(round)

// X(name): binary elementwise ops. Comparisons (eq..le) write uint8 (bool); reluGrad / geluGrad take (g, x).
#define KD_BINARY_OPS(X)                                                                                               \
  X(add) X(sub) X(mul) X(div) X(maximum) X(minimum) X(pow) X(eq) X(ne) X(gt) X(lt) X(ge) X(le) X(reluGrad)           \
  X(geluGrad)

namespace kd {
#define KD_ENUM_U(n) U_##n,
#define KD_ENUM_B(n) B_##n,
enum UnaryOp { KD_UNARY_OPS(KD_ENUM_U) U_COUNT };
enum BinaryOp { KD_BINARY_OPS(KD_ENUM_B) B_COUNT };
#undef KD_ENUM_U
#undef KD_ENUM_B
// First comparison op and first gradient op in BinaryOp (arithmetic ops come before them).
const int B_FIRST_CMP = B_eq, B_FIRST_GRAD = B_reluGrad;
}  // namespace kd
