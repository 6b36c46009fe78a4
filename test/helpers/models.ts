/**
 * Where the tests find the team kit's tiny GGUF models: `$WATTWISE_TEST_MODELS_DIR`, else
 * `../shared/models` beside the repository. Never copy them into the repo.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (absolute). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Folder holding `stories260K.gguf`, `TinyStories-656K-Q8_0.gguf` and `llama-2-tiny-random.gguf`. */
export const testModelsDir = process.env.WATTWISE_TEST_MODELS_DIR ?? join(repoRoot, '..', 'shared', 'models');

/** Absolute path of one kit model; throws with a clear message when the kit is missing. */
export function testModel(fileName: 'stories260K.gguf' | 'TinyStories-656K-Q8_0.gguf' | 'llama-2-tiny-random.gguf'): string {
  const p = join(testModelsDir, fileName);
  if (!existsSync(p)) {
    throw new Error(`test model ${p} not found: put the team kit at ../shared or set WATTWISE_TEST_MODELS_DIR`);
  }
  return p;
}
