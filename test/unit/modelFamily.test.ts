import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelFamily, readModelInfo } from '../../electron/models/catalog.js';
import { testModel } from '../helpers/models.js';

test('variants of one base model share a family key', () => {
  const f = (fileName: string) => modelFamily({ basename: null, finetune: null, fileName, architecture: 'llama' });
  assert.equal(f('qwen2.5-1.5b-instruct-q4_k_m.gguf'), 'qwen2.5-instruct');
  assert.equal(f('Qwen2.5-7B-Instruct-Q8_0.gguf'), 'qwen2.5-instruct');
  assert.equal(f('Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf'), f('Meta-Llama-3.1-70B-Instruct-IQ4_XS.gguf'));
  assert.equal(f('mixtral-8x7b-v0.1.Q4_0.gguf'), 'mixtral-v0.1');
  assert.equal(f('model-00001-of-00003.gguf'), 'model');
  assert.notEqual(f('qwen2.5-1.5b-instruct-q4_k_m.gguf'), f('qwen2.5-1.5b-q4_k_m.gguf'), 'base and instruct differ');
  assert.equal(modelFamily({ basename: 'Qwen2.5', finetune: 'Instruct', fileName: 'whatever.gguf', architecture: 'qwen2' }), 'qwen2.5-instruct');
});

test('readModelInfo fills family and size label', async () => {
  const info = await readModelInfo(testModel('TinyStories-656K-Q8_0.gguf'));
  assert.equal(info.family, 'raincandy-u-tinystories'); // general.basename + general.finetune
  const stories = await readModelInfo(testModel('stories260K.gguf'));
  assert.equal(stories.family, 'stories');
});

test('KV cache bytes per token from the header shape', async () => {
  // stories260K: 5 layers, embedding 64, 8 heads, 4 KV heads → 5 × 4 × (8 + 8) × 2 bytes = 640
  const stories = await readModelInfo(testModel('stories260K.gguf'));
  assert.equal(stories.kvCacheBytesPerToken, 640);
  // TinyStories-656K: 2 layers, embedding 128, 8 heads, 4 KV heads → 2 × 4 × (16 + 16) × 2 = 512
  const tiny = await readModelInfo(testModel('TinyStories-656K-Q8_0.gguf'));
  assert.equal(tiny.kvCacheBytesPerToken, 512);
});
