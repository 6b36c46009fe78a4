/**
 * The governor's quality scale: llama.cpp's quantization table, the absolute size term, published scores
 * matched from metadata, measured bits per byte, and which source wins.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deltaPplAtBitsPerWeight,
  normalizeQuantization,
  quantDeltaPpl,
  quantInfo,
  qualitiesOf,
  priorQuality,
  referenceQuality,
  measuredQualities,
  matchPublishedScore,
  fitMmlu,
  publishedEffectiveParameterCount,
  PUBLISHED_SCORES,
  SAVER_MIN_QUALITY,
  type CandidateInput,
} from '../../../electron/governor/index.js';
import { describeQuality, equivalentParameterCount, qualityAtFullPrecision, sizeLossNats, SAVER_QUALITY_FLOOR, SIZE_LOSS_SCALE } from '../../../shared/qualityScale.js';

function peer(family: string, parameterCount: number | null, quantization: string, sizeBytes = 1e9, extra: Partial<CandidateInput> = {}): CandidateInput {
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
    ...extra,
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

describe('the absolute size term (Chinchilla A·N^−α, no per-family normalization)', () => {
  test('in wikitext-2 nats: k from LLaMA-1 7B/13B ≈ 3.0, and Llama-2 7B/13B agree within 5%', () => {
    assert.ok(Math.abs(SIZE_LOSS_SCALE - 2.96) < 0.01, String(SIZE_LOSS_SCALE));
    const llama2 = Math.log(5.47 / 4.88) / (406.4 * (6.74e9 ** -0.34 - 13.0e9 ** -0.34));
    assert.ok(Math.abs(llama2 / SIZE_LOSS_SCALE - 1) < 0.05, String(llama2));
  });

  test('known values: 135M → 0.13, 1B → 0.35, 3B → 0.49, 8B → 0.60, 70B → 0.78', () => {
    const expect: Array<[number, number]> = [[135e6, 0.13], [1e9, 0.35], [3e9, 0.49], [8e9, 0.60], [70e9, 0.78]];
    for (const [n, q] of expect) assert.ok(Math.abs(qualityAtFullPrecision(n) - q) < 0.01, `${n}: ${qualityAtFullPrecision(n)}`);
    // 2.96 × 406.4 × 1e9^-0.34 ≈ 1.048 nats.
    assert.ok(Math.abs(sizeLossNats(1e9) - 1.048) < 0.003, String(sizeLossNats(1e9)));
    assert.equal(sizeLossNats(0), Number.POSITIVE_INFINITY);
  });

  test('the scale in words inverts the size term', () => {
    for (const n of [135e6, 1e9, 3.2e9, 70e9]) {
      const back = equivalentParameterCount(qualityAtFullPrecision(n))!;
      assert.ok(Math.abs(back / n - 1) < 1e-6, `${n} → ${back}`);
    }
    assert.equal(describeQuality(qualityAtFullPrecision(3e9)), 'like a 3B model at full precision');
    assert.equal(describeQuality(0), 'not measurable');
    assert.equal(equivalentParameterCount(1), null);
  });

  test('monotone in parameter count within and across families (the prior)', () => {
    const sizes = [135e6, 360e6, 0.5e9, 1e9, 1.5e9, 3e9, 7e9, 8e9, 14e9, 70e9];
    for (const q of ['F16', 'Q8_0', 'Q4_K_M', 'Q2_K']) {
      const families = ['smollm2', 'qwen2.5', 'llama-3.2', 'phi-3.5'];
      // Each size in a different family: the family name plays no part.
      const scores = sizes.map((n, i) => priorQuality({ parameterCount: n, quantization: q }).quality + 0 * families[i % families.length]!.length);
      for (let i = 1; i < scores.length; i++) assert.ok(scores[i]! > scores[i - 1]!, `${q}: ${sizes[i]} (${scores[i]}) > ${sizes[i - 1]} (${scores[i - 1]})`);
    }
    // A 135M model never scores like a 3B one, whatever its quantization.
    assert.ok(priorQuality({ parameterCount: 135e6, quantization: 'F16' }).quality < priorQuality({ parameterCount: 3e9, quantization: 'Q2_K' }).quality);
    // A bigger model at Q4_K_M beats a half-size one at Q8_0 (llama.cpp PR #1684's finding).
    assert.ok(priorQuality({ parameterCount: 14e9, quantization: 'Q4_K_M' }).quality > priorQuality({ parameterCount: 7e9, quantization: 'Q8_0' }).quality);
  });

  test('quantization lowers quality, in the table\'s order', () => {
    const ladder = ['F16', 'Q8_0', 'Q6_K', 'Q5_K_M', 'Q4_K_M', 'Q3_K_M', 'Q2_K'];
    const scores = ladder.map((q) => priorQuality({ parameterCount: 7e9, quantization: q }).quality);
    for (let i = 1; i < scores.length; i++) assert.ok(scores[i]! < scores[i - 1]!, `${ladder[i]} < ${ladder[i - 1]}`);
    for (const q of ['Q8_0', 'Q4_K_M']) {
      assert.ok(referenceQuality({ parameterCount: 7.61e9, quantization: q, basename: 'Qwen2.5', sizeLabel: '7B' }).quality < referenceQuality({ parameterCount: 7.61e9, quantization: 'F16', basename: 'Qwen2.5', sizeLabel: '7B' }).quality);
    }
  });

  test('unknown counts: estimated from the size, else taken as 1B; unknown quantizations interpolated or Q4_K_M', () => {
    const est = priorQuality({ parameterCount: null, quantization: 'Q8_0', sizeBytes: 1.6e9 });
    assert.match(est.basis, /~1\.5B \(from the file size\)/);
    const none = priorQuality({ parameterCount: null, quantization: 'Q8_0' });
    assert.match(none.basis, /size unknown/);
    assert.ok(Math.abs(none.quality - priorQuality({ parameterCount: 1e9, quantization: 'Q8_0' }).quality) < 1e-12);
    const fromFile = priorQuality({ parameterCount: 2e9, quantization: 'FUTURE_Q3', sizeBytes: 1e9 });
    assert.match(fromFile.basis, /4\.00 bits\/weight/);
    assert.ok(Math.abs(fromFile.quality - priorQuality({ parameterCount: 2e9, quantization: 'Q3_K_M' }).quality) < 0.001);
    assert.equal(priorQuality({ parameterCount: 2e9, quantization: null }).quality, priorQuality({ parameterCount: 2e9, quantization: 'Q4_K_M' }).quality);
  });

  test('never NaN, always within [0, 1]', () => {
    for (const params of [null, 0, -1, Number.NaN, 1, 1e15]) {
      for (const q of [null, 'F16', 'Q2_K', 'IQ1_S', 'garbage']) {
        const { quality } = priorQuality({ parameterCount: params, quantization: q, sizeBytes: Number.NaN });
        assert.ok(quality >= 0 && quality <= 1 && !Number.isNaN(quality), `${params} ${q}: ${quality}`);
      }
    }
  });
});

describe('published scores', () => {
  test('every row has a source, a license field, a plausible score and its own size', () => {
    for (const row of PUBLISHED_SCORES) {
      assert.ok(row.source.length > 10, `${row.family} ${row.sizeLabel}: source`);
      assert.ok(row.mmlu > 20 && row.mmlu < 100, `${row.family} ${row.sizeLabel}: ${row.mmlu}`);
      assert.ok(row.parameterCount > 1e7);
      assert.deepEqual(matchPublishedScore({ basename: row.family.replace(' ', '-'), name: null, fileName: null, sizeLabel: row.sizeLabel, parameterCount: row.parameterCount }), row, `${row.family} ${row.sizeLabel} matches itself`);
    }
  });

  test('the typical-model line rises with size and maps scores back to sizes', () => {
    const fit = fitMmlu();
    assert.ok(fit.slope > 5, `slope ${fit.slope} points per decade`);
    const n = 3e9;
    const typical = fit.intercept + fit.slope * Math.log10(n);
    assert.ok(Math.abs(publishedEffectiveParameterCount(typical) / n - 1) < 1e-9);
    assert.ok(publishedEffectiveParameterCount(typical + 5) > n);
    assert.equal(publishedEffectiveParameterCount(25), 1e7);
  });

  test('matched by metadata: basename, general.name or file name, and the size', () => {
    const qwen7 = (m: Partial<Parameters<typeof matchPublishedScore>[0]>) =>
      matchPublishedScore({ basename: null, name: null, fileName: null, sizeLabel: null, parameterCount: null, ...m });
    assert.equal(qwen7({ basename: 'Qwen2.5', sizeLabel: '7B', parameterCount: 7.62e9 })?.sizeLabel, '7B');
    assert.equal(qwen7({ name: 'Qwen2.5 7B Instruct', parameterCount: 7.62e9 })?.family, 'Qwen2.5');
    assert.equal(qwen7({ fileName: 'qwen2.5-1.5b-instruct-q4_k_m.gguf' })?.sizeLabel, '1.5B');
    assert.equal(qwen7({ basename: 'Meta-Llama-3.1', sizeLabel: '8B', parameterCount: 8.03e9 })?.family, 'Llama 3.1');
    assert.equal(qwen7({ basename: 'Llama-3.2', sizeLabel: '1B', parameterCount: 1.24e9 })?.sizeLabel, '1B');
    // The right family at a size it has no row for, another family, or a specialised model: no match.
    assert.equal(qwen7({ basename: 'Qwen2.5', parameterCount: 32e9 }), null);
    assert.equal(qwen7({ basename: 'Qwen2.5-Coder', sizeLabel: '7B', parameterCount: 7.6e9 }), null);
    assert.equal(qwen7({ basename: 'Mistral', sizeLabel: '7B', parameterCount: 7.24e9 })?.family, 'Mistral');
    assert.equal(qwen7({ basename: 'Mistral-Nemo', sizeLabel: '12B', parameterCount: 12.2e9 }), null);
    // SmolLM2 publishes only a cloze MMLU, not comparable: no row, the prior applies.
    assert.equal(qwen7({ basename: 'SmolLM2', sizeLabel: '135M', parameterCount: 134.5e6 }), null);
    assert.equal(qwen7({ fileName: 'llama-2-tiny-random.gguf', parameterCount: 1.2e6 }), null);
  });

  test('a matched file says so and scores by its published number; an unmatched one keeps the prior', () => {
    const published = referenceQuality({ parameterCount: 7.62e9, quantization: 'Q4_K_M', basename: 'Qwen2.5', sizeLabel: '7B', name: 'Qwen2.5 7B Instruct' });
    assert.equal(published.source, 'published');
    assert.match(published.basis, /MMLU/);
    const prior = referenceQuality({ parameterCount: 7.62e9, quantization: 'Q4_K_M', basename: 'Unknown-LM', sizeLabel: '7B' });
    assert.equal(prior.source, 'prior');
    assert.notEqual(published.quality, prior.quality);
  });
});

describe('measured bits per byte', () => {
  const ref = (lossNats: number) => ({ quality: Math.exp(-lossNats), source: 'prior' as const, basis: 'x', lossNats });

  test('the best measured keeps its reference; the others lose ΔBPB × ln2 × 4 nats', () => {
    const out = measuredQualities([
      { bitsPerByte: 1.1, reference: ref(0.3), label: 'b' },
      { bitsPerByte: 1.0, reference: ref(0.2), label: 'a' },
      { bitsPerByte: null, reference: ref(0.1), label: 'c' },
    ]);
    assert.ok(Math.abs(out[1]!.lossNats - 0.2) < 1e-12);
    assert.ok(Math.abs(out[0]!.lossNats - (0.2 + 0.1 * Math.LN2 * 4)) < 1e-12);
    assert.equal(out[2], null);
    assert.equal(out[0]!.source, 'measured');
    assert.match(out[0]!.basis, /bits\/byte/);
  });

  test('measured beats published beats prior', () => {
    const base = { parameterCount: 7.62e9, quantization: 'Q4_K_M', basename: 'Qwen2.5', sizeLabel: '7B', name: 'Qwen2.5 7B Instruct' };
    const inputs = [
      peer('qwen2.5', 7.62e9, 'Q4_K_M', 4.7e9, { ...base, modelPath: '/m/a.gguf', measuredQuality: { bitsPerByte: 0.9 } }),
      peer('qwen2.5', 7.62e9, 'Q8_0', 8.1e9, { ...base, quantization: 'Q8_0', modelPath: '/m/b.gguf', measuredQuality: { bitsPerByte: 0.8 } }),
      peer('qwen2.5', 7.62e9, 'Q4_K_M', 4.7e9, { ...base, modelPath: '/m/c.gguf' }),
      peer('unknown', 7.62e9, 'Q4_K_M', 4.7e9, { modelPath: '/m/d.gguf' }),
    ];
    const q = qualitiesOf(inputs);
    assert.deepEqual(q.map((x) => x.source), ['measured', 'measured', 'published', 'prior']);
    // The measurement overrides the published numbers: a's BPB is worse than b's, so a < b.
    assert.ok(q[0]!.quality < q[1]!.quality);
    // b keeps its published (reference) score as the anchor.
    assert.ok(Math.abs(q[1]!.quality - referenceQuality({ ...base, quantization: 'Q8_0' }).quality) < 1e-12);
  });
});

describe('profile floors on the scale', () => {
  test("Saver's floor is a 1B model at Q4_K_M, and says so", () => {
    assert.equal(SAVER_QUALITY_FLOOR.text, 'at least as good as a 1B model at Q4_K_M');
    assert.ok(Math.abs(SAVER_MIN_QUALITY - priorQuality({ parameterCount: 1e9, quantization: 'Q4_K_M' }).quality) < 1e-12);
    assert.ok(SAVER_MIN_QUALITY > 0.3 && SAVER_MIN_QUALITY < 0.4, String(SAVER_MIN_QUALITY));
    assert.ok(priorQuality({ parameterCount: 135e6, quantization: 'F16' }).quality < SAVER_MIN_QUALITY);
    assert.ok(priorQuality({ parameterCount: 360e6, quantization: 'F16' }).quality < SAVER_MIN_QUALITY);
    assert.ok(priorQuality({ parameterCount: 1.5e9, quantization: 'Q4_K_M' }).quality >= SAVER_MIN_QUALITY);
    assert.ok(priorQuality({ parameterCount: 3e9, quantization: 'Q3_K_S' }).quality >= SAVER_MIN_QUALITY);
    assert.ok(priorQuality({ parameterCount: 3e9, quantization: 'Q2_K' }).quality < SAVER_MIN_QUALITY);
    assert.ok(priorQuality({ parameterCount: 1e9, quantization: 'Q3_K_M' }).quality < SAVER_MIN_QUALITY);
  });
});
