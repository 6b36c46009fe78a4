/**
 * The rows of the published-score table (see ./publishedScores.ts for how they are used): MMLU 5-shot of
 * the pretrained (base) model as its authors published it, with the source of each number; said in
 * `benchmark` where the instruct model's is used instead: for Phi (no base model released) and Llama 3.x
 * (Meta scores its base models' MMLU as `acc_char`, a different metric that puts Llama-3.2-1B at 32.2,
 * near chance; its instruct models use the standard accuracy).
 *
 * Left out on purpose: SmolLM2 (its cards publish only a zero-shot "MMLU (cloze)", a different metric on
 * which Qwen2.5-0.5B scores 33.7 instead of 47.5, so it does not mix with 5-shot numbers), TinyLlama and
 * Gemma 3 1B (no final MMLU published), Qwen3 (scores published only as an image). Those models keep the
 * size/quantization prior.
 *
 * Parameter counts: as published (Qwen to two decimals, Llama 3.2 and Gemma 2 exactly); nominal where the
 * authors give only the size in the name (matching allows ±25%).
 */
import type { PublishedScore } from './publishedScores.js';

const QWEN25 = /^qwen2\.5(?:$|-(?!coder|math|vl|omni))/;
const QWEN25_SOURCE = 'Qwen2.5 blog "Extending the boundary of LLMs", base-model tables (QwenLM/qwenlm.github.io content/blog/qwen2.5-llm)';
const LLAMA32 = /^(?:meta-)?llama-?3\.2(?:$|-(?!.*vision))/;
const LLAMA32_SOURCE = 'Llama 3.2 model card, instruction tuned models (meta-llama/llama-models models/llama3_2/MODEL_CARD.md)';
const LLAMA_INSTRUCT = "MMLU 5-shot (instruct model; Meta's base-model MMLU is acc_char, not comparable)";
const LLAMA31 = /^(?:meta-)?llama-?3\.1(?:$|-)/;
const LLAMA2 = /^(?:meta-)?llama-?2(?:$|-)/;
const LLAMA2_SOURCE = 'Llama 2 model card (meta-llama/llama-models models/llama2/MODEL_CARD.md); 5-shot per the Llama 2 paper, arXiv:2307.09288';
const GEMMA2 = /^gemma-?2(?:$|-)/;
const GEMMA2_SOURCE = 'Gemma 2 report, arXiv:2408.00118, pretrained-model table';
const BASE = 'MMLU 5-shot (base model)';

/** The rows, grouped by family. */
export const SIZE_ROWS: readonly PublishedScore[] = [
  { family: 'Qwen2.5', sizeLabel: '0.5B', parameterCount: 0.49e9, pattern: QWEN25, mmlu: 47.5, benchmark: BASE, source: QWEN25_SOURCE, license: 'apache-2.0' },
  { family: 'Qwen2.5', sizeLabel: '1.5B', parameterCount: 1.54e9, pattern: QWEN25, mmlu: 60.9, benchmark: BASE, source: QWEN25_SOURCE, license: 'apache-2.0' },
  { family: 'Qwen2.5', sizeLabel: '3B', parameterCount: 3.09e9, pattern: QWEN25, mmlu: 65.6, benchmark: BASE, source: QWEN25_SOURCE, license: 'qwen-research' },
  { family: 'Qwen2.5', sizeLabel: '7B', parameterCount: 7.61e9, pattern: QWEN25, mmlu: 74.2, benchmark: BASE, source: QWEN25_SOURCE, license: 'apache-2.0' },
  { family: 'Qwen2.5', sizeLabel: '14B', parameterCount: 14.7e9, pattern: QWEN25, mmlu: 79.7, benchmark: BASE, source: QWEN25_SOURCE, license: 'apache-2.0' },
  { family: 'Llama 3.2', sizeLabel: '1B', parameterCount: 1.23e9, pattern: LLAMA32, mmlu: 49.3, benchmark: LLAMA_INSTRUCT, source: LLAMA32_SOURCE, license: 'llama3.2' },
  { family: 'Llama 3.2', sizeLabel: '3B', parameterCount: 3.21e9, pattern: LLAMA32, mmlu: 63.4, benchmark: LLAMA_INSTRUCT, source: LLAMA32_SOURCE, license: 'llama3.2' },
  {
    family: 'Llama 3.1',
    sizeLabel: '8B',
    parameterCount: 8.0e9,
    pattern: LLAMA31,
    mmlu: 69.4,
    benchmark: LLAMA_INSTRUCT,
    source: 'Llama 3.1 model card, instruction tuned models (meta-llama/llama-models models/llama3_1/MODEL_CARD.md)',
    license: 'llama3.1',
  },
  {
    family: 'Phi-3.5-mini',
    sizeLabel: '3.8B',
    parameterCount: 3.8e9,
    pattern: /^phi-?3\.5(?:$|-mini)/,
    mmlu: 69.0,
    benchmark: 'MMLU 5-shot (instruct model; no base model released)',
    source: 'Phi-3.5-mini-instruct model card (huggingface.co/microsoft/Phi-3.5-mini-instruct)',
    license: 'mit',
  },
  {
    family: 'Phi-4-mini',
    sizeLabel: '3.8B',
    parameterCount: 3.8e9,
    pattern: /^phi-?4(?:$|-mini)/,
    mmlu: 67.3,
    benchmark: 'MMLU 5-shot (instruct model; no base model released)',
    source: 'Phi-4-mini-instruct model card (huggingface.co/microsoft/Phi-4-mini-instruct)',
    license: 'mit',
  },
  { family: 'Gemma 2', sizeLabel: '2B', parameterCount: 2_614_636_800, pattern: GEMMA2, mmlu: 52.2, benchmark: BASE, source: GEMMA2_SOURCE, license: 'gemma' },
  { family: 'Gemma 2', sizeLabel: '9B', parameterCount: 9_242_164_736, pattern: GEMMA2, mmlu: 71.3, benchmark: BASE, source: GEMMA2_SOURCE, license: 'gemma' },
  {
    family: 'Gemma 3',
    sizeLabel: '4B',
    parameterCount: 4.0e9,
    pattern: /^gemma-?3(?:$|-)/,
    mmlu: 59.6,
    benchmark: BASE,
    source: 'Gemma 3 4B model card, pretrained-model evaluation (huggingface.co/google/gemma-3-4b-it)',
    license: 'gemma',
  },
  {
    family: 'Mistral',
    sizeLabel: '7B',
    parameterCount: 7.0e9,
    pattern: /^mistral(?:$|-7b|-v0\.1)/,
    mmlu: 60.1,
    benchmark: BASE,
    source: 'Mistral 7B paper, arXiv:2310.06825, Table 2',
    license: 'apache-2.0',
  },
  { family: 'Llama 2', sizeLabel: '7B', parameterCount: 7.0e9, pattern: LLAMA2, mmlu: 45.3, benchmark: BASE, source: LLAMA2_SOURCE, license: 'llama2' },
  { family: 'Llama 2', sizeLabel: '13B', parameterCount: 13.0e9, pattern: LLAMA2, mmlu: 54.8, benchmark: BASE, source: LLAMA2_SOURCE, license: 'llama2' },
];
