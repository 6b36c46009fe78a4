/**
 * The tokenizer guard: keeps text a SentencePiece vocabulary cannot encode away from llama.cpp, whose
 * native tokenizer would otherwise abort the whole process (see {@link createTokenizerGuard}). Patches one
 * node-llama-cpp internal (the native model's `tokenize`), so it lives apart from the engine.
 */
import type { LlamaModel } from 'node-llama-cpp';

/** What {@link createTokenizerGuard} needs of a GGUF tokenizer (`tokenizer.ggml.*` metadata). */
export interface VocabularyInfo {
  /** `tokenizer.ggml.model`: `llama` (SentencePiece), `gpt2` (BPE)... */
  model?: unknown;
  /** `tokenizer.ggml.tokens`. */
  tokens?: unknown;
  /** `tokenizer.ggml.token_type` (llama.cpp `llama_token_type`: 3 control, 4 user-defined). */
  token_type?: unknown;
}

/** Keeps text a SentencePiece vocabulary cannot encode away from llama.cpp. */
export interface TokenizerGuard {
  /** Characters the vocabulary has a token for (single-character tokens, or every UTF-8 byte as `<0xXX>`). */
  isSafe(char: string): boolean;
  /**
   * `text` without the characters the vocabulary cannot encode: accents are stripped first (NFKD: `é` → `e`),
   * what is still unencodable is dropped. With `specialTokens`, control-token texts (e.g. `<|start_story|>`)
   * are kept whole.
   */
  sanitize(text: string, specialTokens?: boolean): string;
}

/**
 * A guard for SentencePiece (`llama`) vocabularies without full byte fallback, else `null` (nothing to
 * guard: the common case).
 *
 * Why: llama.cpp's SentencePiece tokenizer encodes a character missing from the vocabulary through
 * byte tokens `<0xXX>`; when the vocabulary has none (e.g. the kit's TinyStories-656K: 78 single
 * characters, no byte tokens), `llama_vocab::byte_to_token` throws `std::out_of_range` from native code
 * and the whole process aborts — on a `#` in a chat template, or a `é` typed by the user.
 */
export function createTokenizerGuard(vocab: VocabularyInfo | undefined | null): TokenizerGuard | null {
  if (vocab == null || vocab.model !== 'llama' || !Array.isArray(vocab.tokens)) return null;
  const tokens = vocab.tokens as unknown[];
  const types = Array.isArray(vocab.token_type) ? (vocab.token_type as unknown[]) : [];
  const byteTokens = new Set<number>();
  const singles = new Set<string>();
  const specials: string[] = [];
  tokens.forEach((token, i) => {
    if (typeof token !== 'string') return;
    const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
    if (byte) byteTokens.add(parseInt(byte[1]!, 16));
    else if ([...token].length === 1) singles.add(token);
    if ((types[i] === 3 || types[i] === 4) && token.length > 1) specials.push(token);
  });
  if (byteTokens.size === 256) return null;
  const cache = new Map<string, boolean>();
  const isSafe = (char: string): boolean => {
    let safe = cache.get(char);
    if (safe == null) {
      // SentencePiece sees spaces as U+2581 ("▁").
      safe = singles.has(char === ' ' ? '\u2581' : char) || [...Buffer.from(char, 'utf8')].every((b) => byteTokens.has(b));
      cache.set(char, safe);
    }
    return safe;
  };
  const clean = (part: string): string => {
    let out = '';
    for (const char of part) {
      if (isSafe(char)) out += char;
      else for (const c of char.normalize('NFKD')) if (isSafe(c)) out += c;
    }
    return out;
  };
  const specialPattern =
    specials.length > 0
      ? new RegExp(`(${specials.sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`)
      : null;
  return {
    isSafe,
    sanitize(text, specialTokens = false) {
      if (!specialTokens || specialPattern == null) return clean(text);
      return text
        .split(specialPattern)
        .map((part, i) => (i % 2 === 1 ? part : clean(part)))
        .join('');
    },
  };
}

/**
 * Routes every tokenization of `model` through `guard` (see {@link createTokenizerGuard}). node-llama-cpp
 * funnels all its tokenization (chat templates, stop triggers, context shifts, `model.tokenize`) through the
 * native model object's `tokenize(text, specialTokens)`; that method is wrapped on the instance. Returns
 * false when the object is not shaped as expected (a node-llama-cpp upgrade): then only the engine's own
 * text is sanitized.
 */
export function installTokenizerGuard(model: LlamaModel, guard: TokenizerGuard): boolean {
  const native = (model as unknown as { _model?: { tokenize?: unknown } })._model;
  if (native == null || typeof native.tokenize !== 'function') return false;
  const original = (native.tokenize as (text: string, specialTokens: boolean) => unknown).bind(native);
  try {
    // The prototype's method is read-only (a native accessor), so shadow it with an own property.
    Object.defineProperty(native, 'tokenize', {
      value: (text: string, specialTokens: boolean) =>
        original(typeof text === 'string' ? guard.sanitize(text, specialTokens) : text, specialTokens),
      configurable: true,
      writable: false,
    });
    return native.tokenize !== original;
  } catch {
    return false;
  }
}
