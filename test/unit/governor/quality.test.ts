/** The governor's quality prior: llama.cpp's quantization table, the size curve, and the combined score. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deltaPplAtBitsPerWeight,
  estimateParameterCount,
  normalizeQuantization,
  quantDeltaPpl,
  quantInfo,
  qualityOf,
  sizePenaltyNats,
  type CandidateInput,
} from '../../../electron/governor/index.js';

function peer(family: string, parameterCount: number | null, quantization: string, sizeBytes = 1e9): CandidateInput {
  return {
    modelPath: `/m/${family}-${parameterCount}-${quantization}.gguf`,
    fileName: `${family}-${parameterCount}-${quantization}.gguf`,
    name: family,
    family,
    architecture: 'llama',
    parameterCount,
    sizeBytes,
    quantization,
    fits: true,
    memoryReason: null,
    settings: { threads: 2, gpuLayers: 0, contextSize: 4096 },
    measured: null,
    kvCacheBytesPerToken: 0,
  };
}

describe('quantization ΔPPL (llama.cpp perplexity README, Llama-3-8B vs FP16)', () => {
  test('the published anchors, to the table precision', () => {
    const anchors: Array<[string, number]> = [
      ['Q8_0', 0.003], ['Q6_K', 0.022], ['Q5_K_M', 0.057], ['Q4_K_M', 0.175], ['IQ4_XS', 0.228],
      ['Q4_0', 0.469], ['Q3_K_M', 0.657], ['Q2_K', 3.52],
    ];
    for (const [name, delta] of anchors) {
      const got = quantDeltaPpl(name);
      assert.ok(got != null && Math.abs(got - delta) < 0.0015, `${name}: ${got} vs ${delta}`);
    }
  });

  test('full precision is lossless; spelling does not matter', () => {
    for (const q of ['F16', 'BF16', 'F32', 'f16', ' bf16 ', 'MOSTLY_F16', 'ALL_F32']) assert.equal(quantDeltaPpl(q), 0, q);
    assert.equal(normalizeQuantization('mostly_q4_k_m'), 'Q4_K_M');
    assert.equal(quantDeltaPpl('q4_k_m'), quantDeltaPpl('Q4_K_M'));
  });

  test('other names: their own scoreboard row, an alias, or interpolated by bits per weight', () => {
    // Rows of the same table.
    assert.ok(Math.abs(quantDeltaPpl('Q5_0')! - 0.1316) < 1e-3);
    assert.ok(Math.abs(quantDeltaPpl('Q4_K_S')! - 0.2689) < 1e-3);
    assert.ok(Math.abs(quantDeltaPpl('IQ3_XXS')! - 1.2268) < 1e-3);
    assert.equal(quantInfo('Q5_1')!.source, 'llama.cpp');
    // Tensor-type names and repacked layouts.
    assert.equal(quantDeltaPpl('Q4_K'), quantDeltaPpl('Q4_K_M'));
    assert.equal(quantDeltaPpl('Q4_0_4_8'), quantDeltaPpl('Q4_0'));
    // Interpolated: MXFP4 at 4.25 bpw lands between Q3_K_M (4.00 bpw) and Q4_K_M (4.90 bpw).
    const mx = quantInfo('MXFP4_MOE')!;
    assert.equal(mx.source, 'interpolated');
    assert.ok(mx.deltaPpl < quantDeltaPpl('Q3_K_M')! && mx.deltaPpl > quantDeltaPpl('Q4_K_M')!, String(mx.deltaPpl));
    // Unknown names.
    assert.equal(quantInfo('type 41'), null);
    assert.equal(quantInfo(null), null);
    assert.equal(quantInfo('  '), null);
  });

  test('the interpolation curve passes through its rows and falls as bits rise', () => {
    for (const q of ['Q2_K', 'Q3_K_M', 'Q4_K_M', 'Q5_K_M', 'Q6_K', 'Q8_0']) {
      const info = quantInfo(q)!;
      assert.ok(Math.abs(deltaPplAtBitsPerWeight(info.bitsPerWeight) - info.deltaPpl) < 1e-9, q);
    }
    let previous = Number.POSITIVE_INFINITY;
    for (let bpw = 1.5; bpw <= 17; bpw += 0.25) {
      const d = deltaPplAtBitsPerWeight(bpw);
      assert.ok(d <= previous && d >= 0, `${bpw}: ${d} after ${previous}`);
      previous = d;
    }
    assert.equal(deltaPplAtBitsPerWeight(16), 0);
    // Below Q2_K the extrapolation is of the order of the measured IQ1_S (+54 at 2.0 bpw).
    const at2 = deltaPplAtBitsPerWeight(2.0);
    assert.ok(at2 > 10 && at2 < 100, String(at2));
  });
});

describe('size penalty (Chinchilla parameter term)', () => {
  test('zero for the largest, grows as the model shrinks, concave in log N', () => {
    assert.equal(sizePenaltyNats(7e9, 7e9), 0);
    assert.equal(sizePenaltyNats(14e9, 7e9), 0);
    assert.equal(sizePenaltyNats(null, 7e9), 0);
    const p3 = sizePenaltyNats(3e9, 7e9);
    const p15 = sizePenaltyNats(1.5e9, 7e9);
    const p05 = sizePenaltyNats(0.5e9, 7e9);
    assert.ok(p05 > p15 && p15 > p3 && p3 > 0);
    // 406.4 × (1.5e9^-0.34 − 7e9^-0.34) ≈ 0.126 nats.
    assert.ok(Math.abs(p15 - 0.126) < 0.002, String(p15));
  });
});

describe('qualityOf', () => {
  test('1 for the largest full-precision variant; below 1 for its quantizations, in the table order', () => {
    const peers = [peer('f', 7e9, 'F16'), peer('f', 1.5e9, 'Q4_K_M')];
    assert.equal(qualityOf({ family: 'f', parameterCount: 7e9, quantization: 'F16' }, peers).quality, 1);
    const ladder = ['F16', 'Q8_0', 'Q6_K', 'Q5_K_M', 'Q4_K_M', 'IQ4_XS', 'Q4_0', 'Q3_K_M', 'Q2_K'];
    const scores = ladder.map((q) => qualityOf({ family: 'f', parameterCount: 7e9, quantization: q }, peers).quality);
    for (let i = 1; i < scores.length; i++) assert.ok(scores[i]! < scores[i - 1]!, `${ladder[i]} ${scores[i]} vs ${ladder[i - 1]} ${scores[i - 1]}`);
    // Q4_K_M = PPL_F16 / PPL_Q4_K_M = 6.233 / 6.407.
    assert.ok(Math.abs(scores[4]! - 6.23316 / (6.23316 + 0.175482)) < 1e-9);
  });

  test('monotone in parameter count within a family, relative to the family\'s largest', () => {
    const peers = [peer('f', 14e9, 'Q4_K_M'), peer('f', 0.5e9, 'Q8_0')];
    const sizes = [0.5e9, 1e9, 1.5e9, 3e9, 7e9, 14e9];
    const q = sizes.map((n) => qualityOf({ family: 'f', parameterCount: n, quantization: 'Q8_0' }, peers).quality);
    for (let i = 1; i < q.length; i++) assert.ok(q[i]! > q[i - 1]!);
    // The family's largest at Q8_0 is (almost) 1 even though only a Q4_K_M of it is installed.
    assert.ok(q[q.length - 1]! > 0.999);
    // Another family's bigger model does not count.
    const withStranger = [...peers, peer('g', 70e9, 'F16')];
    assert.equal(qualityOf({ family: 'f', parameterCount: 7e9, quantization: 'Q8_0' }, withStranger).quality, q[4]);
  });

  test('the basis says where the numbers come from', () => {
    const { basis } = qualityOf({ family: 'f', parameterCount: 1.5e9, quantization: 'Q4_K_M' }, [peer('f', 7e9, 'F16')]);
    assert.match(basis, /1\.5B of the family's 7B/);
    assert.match(basis, /Q4_K_M: ΔPPL \+0\.175 on Llama-3-8B \(llama\.cpp\)/);
  });

  test('unknown parameter count: estimated from the file size and quantization', () => {
    assert.ok(Math.abs(estimateParameterCount(4.9e9 * 4.9 / 8, 'Q4_K_M')! - 4.9e9) / 4.9e9 < 0.01);
    const r = qualityOf({ family: 'f', parameterCount: null, quantization: 'Q8_0', sizeBytes: 1.6e9 }, [peer('f', 7e9, 'F16')]);
    assert.match(r.basis, /from the file size/);
    assert.ok(r.quality < 0.95 && r.quality > 0.8, String(r.quality));
    // Nothing to go on: no size penalty, and the basis says so.
    const none = qualityOf({ family: 'f', parameterCount: null, quantization: 'Q8_0' }, []);
    assert.match(none.basis, /size unknown/);
  });

  test('unknown quantization: the file\'s own bits per weight when known, else taken as Q4_K_M', () => {
    const fromFile = qualityOf({ family: 'f', parameterCount: 2e9, quantization: 'FUTURE_Q3', sizeBytes: 1e9 }, []);
    assert.match(fromFile.basis, /4\.00 bits\/weight/);
    assert.ok(Math.abs(fromFile.quality - qualityOf({ family: 'f', parameterCount: 2e9, quantization: 'Q3_K_M' }, []).quality) < 0.001);
    const assumed = qualityOf({ family: 'f', parameterCount: 2e9, quantization: null }, []);
    assert.match(assumed.basis, /assumed like Q4_K_M/);
    assert.equal(assumed.quality, qualityOf({ family: 'f', parameterCount: 2e9, quantization: 'Q4_K_M' }, []).quality);
  });

  test('always within (0, 1], even for nonsense', () => {
    for (const params of [null, 0, -5, Number.NaN, 1e3, 1e12]) {
      for (const q of [null, 'IQ1_S', 'F32', 'garbage']) {
        const { quality } = qualityOf({ family: 'f', parameterCount: params, quantization: q, sizeBytes: Number.NaN }, [peer('f', 7e9, 'F16')]);
        assert.ok(quality > 0 && quality <= 1, `${params} ${q}: ${quality}`);
      }
    }
  });
});
