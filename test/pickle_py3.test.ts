// The safe unpickler against pickles that real CPython 3 + numpy wrote (protocols 2..5).
import test from "node:test";
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { NdArray, UnpicklingError, unpickle } from "../src/io/pickle.js";

// Pickles written by CPython 3 + numpy 2 (protocols 2-5), zlib-compressed and base64-encoded so
// the test needs no Python. Regenerate with (python3, numpy):
//   rows = (np.arange(2*3072)*7 % 256).astype(np.uint8).reshape(2, 3072)
//   batch = {'batch_label': 'training batch 1 of 5', 'labels': [3, 9], 'data': rows, 'filenames': ['a.png', 'b.png']}
//   mixed = {'u8': np.arange(6, dtype=np.uint8).reshape(2, 3), 'f4be': np.array([1.5, -2], dtype='>f4'),
//            'i8': np.array([1, -2**40], dtype='i8'), 'f8f': np.asfortranarray(np.arange(6, dtype='f8').reshape(2, 3)),
//            's': 'héllo', 'b': b'xy', 't': (1, None, True), 'big': 2**70, 'neg': -5, 'fl': 3.25, 'e': b'',
//            'np_scalar': np.int64(7), 'set': {1, 2}, 'ba': bytearray(b'q')}
//   base64(zlib.compress(pickle.dumps(obj, protocol=p), 9)); oob_p5: protocol 5 with buffer_callback (not compressed).
const PY3_PICKLES: Record<string, string> = {
  batch_p2:
    "eNrt0PlbTGEUB/DbtM60kaKoDMLYhpB93xmFsV1LcmfmVkPdeqc7iCJL0569RIsoIa2WIup5vucP4xr9B3497w/vc55z3nPe83yq" +
    "TJVCssnRkiS5FN1dmFekuNQiESInGRndp3g1r1ZgDZasmdaSfGuWMMkRRi34rkyE5oowmyPUYVblMCPrUXRFhLs1f3FpuT3PXeJT" +
    "7cX+It2r+HxKuSXPp7pLtDLd53frFhHx75lF8/yrikiHVC2i3EabR3WXWVTtb2ARZjnk73bCMv2v7tUyRXRAxDhFbI2Ic4p4myPE" +
    "YcqWYgJixvRMj15earTOlE1Giz9TJNTV1ohZTpFo7BocVyGScnJyjvw2TvBySLqY7aorNMtShlGOjEtKXbQ8c9POA9mnLri8pddv" +
    "oxqNeIqX6MZ7DOEbftEDaqAn1EavqY8G6Sv9DLXMTJ6/ZNX6rXsOHz97yeC5ibuoxUO0oAM96McovlMV1VAzPad2eksfaYTGaSoi" +
    "NnHewmVrNu7Yf/TkeaWw5FolHqABT9CG1+jDIL7iJ92nenpML6iL3tEAfaEJk3nGnPTFK9dt2X3o2Jlcz1VfOapQg2Y8Rzve4iNG" +
    "MI4pClATPaNX9IY+0DCN0WR4zKy5C2yrN2zf53Ceu1yg+StwH/V4jBfowjsM4Asm6B7V0SNqpU7qpU/0mX6ERMXPTstYsXbzroM5" +
    "py+6r4gbdxBAE57hFd7gA4YxhkmqpkZ6Si+pm97TEH2jX2HRCSnWpfasbXuPnJDz8ov1W7iHOjxCKzrRi0/4jB90l2rpIbVQB/VQ" +
    "P43Sd/Znf/Znf/Znf/Znf/Znf/Znf/Znf/Znf/Znf/Znf/Znf/Znf/Znf/Znf/Znf/Znf/Zn///xF3MKowMi2SlSdDHXJZslScr3" +
    "FqmaUqyWiXm5ItUmhxs5xV6qFYi0YOwKxumq3/4HWsT48g==",
  mixed_p2:
    "eNp1k2lz0kAYx5cALY1XtfW+b6oVRVFRa8GzShR1veJRYxJCwwwN/JPNjMzoTN9AW7+J7/oNfMHH8oXubhJHZdxMsjvP9fs/2d0V" +
    "5QtIXlcIIWEZKdsLl7u9gmF3fKewHLZZy/R9s6cavmN3vID5oc1UKFGY6jUiL9Ia6SNj87SGYweq44mFiqye4nUtjOljfG6brOUV" +
    "MT5AjmJiFSrFpryW0hQtPcDmuGSD9bo8c0ukqIit62ur2EYxmdfSstpnbK/X67WffMiPRhh2WOtuVjJISklnsphyOWWaYifDLkvP" +
    "cHuzZDnY7SqulLrH5fy9FPskv4/9bgRslnBAAA9SHEqA8zg8AjwigSr3VoYrhIiX4KiAHqM4znDCkuVaZZxMkKcE8jRFPkbOxEge" +
    "c0Ygz1LMJsg5nBtBFiRySrRI/hjD7+LBecG+QFFkuGjpadFKuYlLCbwk4Jcprvz+31eTjssoC/w1iusc746Cb1hrHFwk/45cNVaw" +
    "UYkWk7GBxPN0FXNC1k2KeYaKJVsLUJUb5Q6/tdsd3IpPyG2OEHI+9XBH5NyluCddDPe1VJ0LXJBdWa0lPPg6kWioSqPnLOFh7QfX" +
    "G7XURm2hqkYRsogDzTYMK2zx8+wZhmr1mBOoeDRD8VgXxbyuEdhm2/RR/98NiPwqnrizXGuOJ43HIvBUKH5GQQd4TvFCagochpd/" +
    "QblFxatFvJZ74PShU7yRgi0Tb0f0xTfrnRtdIuC9oCxSfOjDoPgYFn4B/kUSfA==",
  batch_p3:
    "eNprYK4tZNCI4GZgYEhKLEnOiM9JTErNKWSMEAWKlBQlZuZl5qUrgKUUDBXy0xRMC5ki2IByYHXFhcyxhSwa3szenKkRLEDRlMSS" +
    "xELW5LzS3IJKvfjk/KJUvdzSnJLMxKKixEqu+KLU5Py84pKi0uQSrkI2iDKuvBSIbCG7N0NrIYczY1IhZ3shV1Aht4Y3ozeTLwNP" +
    "WyEPVG1KSWVBKlchbwQT0LJSw0K+zo72Qv6gQgGgGyIYgWI1hYJ+fn5e/4EATHgzlBQKJXU6MUgAJdn5RGWUtQwt7N18Q6KTMgvK" +
    "61p7Js9auGL9tr1HTl+6+eD5u69/mLkEJeTVdE2snTwDwuOAXqxq7OifNnfJ6k07Dxw/d/XO41cff/xn4xWRVtI0MLdz9QmOSszI" +
    "L6tt6Z40c8HydVv3HD518cb9Z2+//GbiFBCXU9UxtnL08A+LTckuqmxo75s6Z/GqjTv2Hzt75fajlx++/2PlEZZS1NA3s3XxDopM" +
    "SM8rrWnumjhj/rK1W3YfOnnh+r2nbz7/YuTgF5NV0TaydHD3C41JziqsqG/rnTJ70coN2/cdPXP51sMX77/9ZeEWklRQ1zO1cfYK" +
    "jIhPyy2pbuqcMH3e0jWbdx08cf7a3SevP/0c9f+o/0f9P+r/Uf+P+n/U/6P+H/X/qP9H/T/q/1H/j/p/1P+j/h/1/6j/R/0/6v9R" +
    "/4/6fzj6v1C4pFAkKYKTgYEhLTMnNS8xN7W4UDS2UEwjghUolqhXkJdeKA5mJ4HZEqmlegBKVUwY",
  mixed_p3:
    "eNp1kttu00AQhtd2mqbm0ADlfIYC4RRaCGCgNAEXCjHkYq98gyKv69SRXCe/vZawBBI36YE34S2QeCHuuYD12i5CESPLo5n5x9/v" +
    "1X7RPoM0bJUQkhhQ3DDZGqfNvjuKvOZWEvChE0VOqvcjzx2FMY8Sl+tQc5kebuRTaBaZoGIqDDM7qFLMNizFUi1tG7VCusHTsadj" +
    "LictQ9/b3cEBioMNS7MV0fuEQ71er/tbhHxZhOMw2zOrRFG1ygzmOerMrgjloMU8HPFVX1KP+gJ5jGJBIic47ueMQQsnMsZJilMl" +
    "YxWnpxhnBKPW/k6IeAjOcpxjcn9o4HzJuJAxLlJcKhiXC4bQXMkYVykWS8YKrk0xrgtGPRvuhxjgBkeD2Vrm1RjgZgm7lcFuU9zZ" +
    "P8O75S8ZaGa4exRLAudPg5bZrrlE/olaJ88/23muFzUp8kIH9zkeMGk+Rsuuiuz/+BYEIzyUTYZHpvoxxWNZcRiW0hMunkjrbLiJ" +
    "p1/nSlpHNkNvE8+6v4Sp3HeAlfWOnivkRzw8NwlW7WwvHPdj1wmcCO3/3b58rqPjL5q12QKFF9t4SWFKYuxxrLksGYqdMNZFqePV" +
    "B7yWZ+hNsE7xRnphDt7+1bGUe8UV7poKYE3wjuJ90vwD1RzhMw==",
  batch_p4:
    "eNprYJn6UYIBDGqnaPRwJyWWJGfE5yQmpeZM6REtKUrMzMvMS1cACysYKuSnKZhO6WEDyxdPiZ2i4c3szZnaw5KSWJI4pUcsrzS3" +
    "oFIvPjm/KFUvtzSnJDOxqCixckoPT3xRanJ+XnFJUWlyyZTJU3pYwSqn9LDnpUCUTJ7izdA6xZkxaUr7lCCgsYzeTL4MPG1TMjh7" +
    "WFNKKgtSQbqYSg2ndHZAFDD3MNZM8fPz8/oPBGDCm6FkSlKnEwPIO+x8ojLKWoYW9m6+IdFJmQXlda09k2ctXLF+294jpy/dfPD8" +
    "3dc/zFyCEvJquibWTp4B4XFA/1Q1dvRPm7tk9aadB46fu3rn8auPP/6z8YpIK2kamNu5+gRHJWbkl9W2dE+auWD5uq17Dp+6eOP+" +
    "s7dffjNxCojLqeoYWzl6+IfFpmQXVTa0902ds3jVxh37j529cvvRyw/f/7HyCEspauib2bp4B0UmpOeV1jR3TZwxf9naLbsPnbxw" +
    "/d7TN59/MXLwi8mqaBtZOrj7hcYkZxVW1Lf1Tpm9aOWG7fuOnrl86+GL99/+snALSSqo65naOHsFRsSn5ZZUN3VOmD5v6ZrNuw6e" +
    "OH/t7pPXn36O+n/U/6P+H/X/qP9H/T/q/1H/j/p/1P+j/h/1/6j/R/0/6v9R/4/6f9T/o/4f9f+o/0f9Pxz9P6VkSlIPZ1pmTmpe" +
    "Ym4qeKKihzVRryAvfUoPaxKYTi3VAwBpyVYp",
  mixed_p4:
    "eNp1ksFKw0AQQHc3SZuISA/iN1QPRaGHHsQGchAayMEfKEmaNIE0rckGDCh4aW1lQKHjR/gXgj/k3YNuk1Qi1mHZ2dnZeTOzu/fy" +
    "S8hIIXfYBpb1EI7ibDLLO0N3mnidSRbx0E4SO0fYHyaeO41TnmQuxzWCUpxEaMaj8sgaTTJHgzr4gFfYNqnJTGmBgQLKiOczbxPE" +
    "sjNcLUu/BPQWLcsafAkpJpNwdFZGg1AmyQoKA2S/63gYyEFzAw+0H7QwDoD53TruYidO7b8RIgYpgCzs/Y8TvhrufCeuRUlNxH6B" +
    "lfyev4tb3MCm0Bo5OPnLXRqn5Jeoeqk/+qVuVTap9KFe5KUpQiN4f42iKYK4eoPdiDehHE1qiXwgOeEYH7UtVQcp9sY4+BR5RVER" +
    "Xup7pQeohwZB0OLZMHXtyE4wYNColmsMjg21WVFwIRoBKfU4PpVtPgNzbATVyULxZWJRlObk3Nt+DINe41zEZJ1vijDd/A==",
  batch_p5:
    "eNprYJ16U4IBDGqnaPRwJyWWJGfE5yQmpeZM6REtKUrMzMvMS1cACysYKuSnKZhO6WEDyxdPiZ2i4c3szZnaw5KSWJI4pUc4rzS3" +
    "oFIvPjm/KFUPyE4tykye0sMdn1aUn5tUmpaWWjRl8hSNaQxQCxnY+URllLUMLezdfEOikzILyutaeybPWrhi/ba9R05fuvng+buv" +
    "f5i5BCXk1XRNrJ08A8LjgLZWNXb0T5u7ZPWmnQeOn7t65/Grjz/+s/GKSCtpGpjbufoERyVm5JfVtnRPmrlg+bqtew6funjj/rO3" +
    "X34zcQqIy6nqGFs5eviHxaZkF1U2tPdNnbN41cYd+4+dvXL70csP3/+x8ghLKWrom9m6eAdFJqTnldY0d02cMX/Z2i27D528cP3e" +
    "0zeffzFy8IvJqmgbWTq4+4XGJGcVVtS39U6ZvWjlhu37jp65fOvhi/ff/rJwC0kqqOuZ2jh7BUbEp+WWVDd1Tpg+b+mazbsOnjh/" +
    "7e6T159+jvp/1P+j/h/1/6j/R/0/6v9R/4/6f9T/o/4f9f+o/0f9P+r/Uf+P+n/U/6P+H/X/qP9H/T8c/T+lhxU8YQCkU0oqC1Kn" +
    "TJ7Sw1RqOKWzo31KEGhqoYexZoqfn5/XfyAAE94MJVOSvJl8GXjapvQwOk8pAarr4UzLzEnNS8xNBU9I9LAm6hXkpQPNTALTqaV6" +
    "AKqRS0E=",
  mixed_p5:
    "eNp9kc1Kw0AUhWcmbU11YUFxrbusikIXXYgNBFQayMIXKEmdaQLpj2kCFhTcWH+4oNBr38G3EHwh9y70Mkkhi+ohzM0wZ757c3JX" +
    "fTsXTOsWLRBZG2FnlA0ns2avP05kk95lEvURtnoqGQ+DTCmZ4AKtZY0V4sKoVBGq+hrVy3Q2kWQh2hE+PT7gBVquAfwGPc/r/pD0" +
    "4rIUA1e4xhyBO5iSDSqqFUgMK9bSLOCdD8boYRiaIFSrzDtZy7vHcFuzRNTWpMZqTFYS+TWRPCXi8f9EQ7WVRh6ydTLtvH518too" +
    "9qyou3b+EaWW4cHfkZzmkfApQi38fI/jMW0CdMQ1hcxTdLlHGDCCaIDP9dUQNhgjOcDuN+GoV4xn9mZ+AlyiwxDqo0lv2vdjP0HY" +
    "K//qYRankZ8kPvFrhWOB4b5jbhRwnOsYpjLFFxqfu+IVRODjcpXtFWbNX+IWxck=",
  oob_p5:
    "gAWVawAAAAAAAACME251bXB5Ll9jb3JlLm51bWVyaWOUjAtfZnJvbWJ1ZmZlcpSTlCiXjAVudW1weZSMBWR0eXBllJOUjAJ1MZSJ" +
    "iIeUUpQoSwOMAXyUTk5OSv////9K/////0sAdJRiSwSFlIwBQ5R0lFKULg==",
};

function fixture(name: string): Uint8Array {
  const raw = Buffer.from(PY3_PICKLES[name]!, "base64");
  return name.startsWith("oob") ? raw : inflateSync(raw);
}

for (const p of [2, 3, 4, 5]) {
  test(`python 3 protocol ${p}: a CIFAR-style batch`, () => {
    const d = unpickle(fixture(`batch_p${p}`)) as Map<string, unknown>;
    assert.ok(d instanceof Map);
    assert.deepEqual([...d.keys()].sort(), ["batch_label", "data", "filenames", "labels"]);
    const data = d.get("data") as NdArray;
    assert.ok(data instanceof NdArray);
    assert.deepEqual(data.shape, [2, 3072]);
    assert.equal(data.dtype.code, "u1");
    assert.ok(data.data instanceof Uint8Array);
    for (let i = 0; i < 6144; i += 97) assert.equal(data.data[i], (i * 7) % 256);
    assert.deepEqual(d.get("labels"), [3, 9]);
    assert.equal(d.get("batch_label"), "training batch 1 of 5");
    assert.deepEqual(d.get("filenames"), ["a.png", "b.png"]);
  });

  test(`python 3 protocol ${p}: mixed values`, () => {
    const d = unpickle(fixture(`mixed_p${p}`)) as Map<string, unknown>;
    const u8 = d.get("u8") as NdArray;
    assert.deepEqual(u8.shape, [2, 3]);
    assert.deepEqual([...u8.data], [0, 1, 2, 3, 4, 5]);
    const f4 = d.get("f4be") as NdArray;
    assert.equal(f4.dtype.byteorder, ">");
    assert.ok(f4.data instanceof Float32Array);
    assert.deepEqual([...f4.data], [1.5, -2]);
    const i8 = d.get("i8") as NdArray;
    assert.ok(i8.data instanceof BigInt64Array);
    assert.deepEqual([...i8.data], [1n, -(2n ** 40n)]);
    const f8f = d.get("f8f") as NdArray;
    assert.equal(f8f.order, "F");
    assert.deepEqual([...f8f.data], [0, 3, 1, 4, 2, 5]); // column-major storage
    assert.equal(d.get("s"), "héllo");
    assert.deepEqual(d.get("b"), Uint8Array.from([120, 121]));
    const t = d.get("t") as unknown[];
    assert.deepEqual([...t], [1, null, true]);
    assert.ok(Object.isFrozen(t), "tuples are frozen arrays");
    assert.equal(d.get("big"), 2n ** 70n);
    assert.equal(d.get("neg"), -5);
    assert.equal(d.get("fl"), 3.25);
    assert.deepEqual(d.get("e"), new Uint8Array(0));
    assert.equal(d.get("np_scalar"), 7);
    assert.deepEqual(d.get("set"), new Set([1, 2]));
    assert.deepEqual(d.get("ba"), Uint8Array.from([113]));
  });
}

test("protocol 5 out-of-band buffers are refused clearly", () => {
  assert.throws(() => unpickle(fixture("oob_p5")), (e: unknown) => {
    assert.ok(e instanceof UnpicklingError);
    assert.match((e as Error).message, /out-of-band buffers are not supported/);
    return true;
  });
});
