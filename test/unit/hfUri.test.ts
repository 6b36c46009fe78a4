/**
 * Parsing of pull sources (hf: URIs, the :QUANT shorthand, Hub URLs, plain URLs, bad inputs), the Hub endpoint
 * from the environment, and the pure quantization pick from a repo's file tree. Table-driven.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DownloadError,
  formatModelSource,
  hubEndpoint,
  hubResolveUrl,
  parseModelSource,
  type ModelSource,
} from '../../electron/models/download/hfUri.js';
import {
  availableQuantizations,
  nextLink,
  pickQuantizationFile,
  quantizationOfFileName,
  type HubTreeEntry,
} from '../../electron/models/download/hub.js';
import { destinationFor } from '../../electron/models/download/downloader.js';

const HF = 'https://huggingface.co';

describe('parseModelSource: accepted inputs', () => {
  const cases: Array<[input: string, expected: ModelSource, endpoint?: string]> = [
    [
      'hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf',
      { kind: 'hf-file', owner: 'bartowski', repo: 'Llama-3.2-1B-Instruct-GGUF', revision: 'main', path: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf' },
    ],
    ['hf:org/repo/sub/dir/model.gguf#v1.0', { kind: 'hf-file', owner: 'org', repo: 'repo', revision: 'v1.0', path: 'sub/dir/model.gguf' }],
    ['hf:org/repo/model.gguf#refs/pr/1', { kind: 'hf-file', owner: 'org', repo: 'repo', revision: 'refs/pr/1', path: 'model.gguf' }],
    ['hf:org/repo@dev/model.gguf', { kind: 'hf-file', owner: 'org', repo: 'repo', revision: 'dev', path: 'model.gguf' }],
    ['hf:org/repo@refs%2Fpr%2F3/model.gguf', { kind: 'hf-file', owner: 'org', repo: 'repo', revision: 'refs/pr/3', path: 'model.gguf' }],
    ['hf://org/repo/Model.GGUF', { kind: 'hf-file', owner: 'org', repo: 'repo', revision: 'main', path: 'Model.GGUF' }],
    ['  hf:org/repo/m.gguf  ', { kind: 'hf-file', owner: 'org', repo: 'repo', revision: 'main', path: 'm.gguf' }],
    ['hf:bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M', { kind: 'hf-quant', owner: 'bartowski', repo: 'Llama-3.2-1B-Instruct-GGUF', revision: 'main', quant: 'Q4_K_M' }],
    ['huggingface:org/repo:q8_0', { kind: 'hf-quant', owner: 'org', repo: 'repo', revision: 'main', quant: 'Q8_0' }],
    ['hf.co/org/repo:IQ4_XS', { kind: 'hf-quant', owner: 'org', repo: 'repo', revision: 'main', quant: 'IQ4_XS' }],
    ['hf:org/repo:Q8_0#dev', { kind: 'hf-quant', owner: 'org', repo: 'repo', revision: 'dev', quant: 'Q8_0' }],
    ['hf:org/repo@dev:Q8_0', { kind: 'hf-quant', owner: 'org', repo: 'repo', revision: 'dev', quant: 'Q8_0' }],
    ['hf:org/repo', { kind: 'hf-quant', owner: 'org', repo: 'repo', revision: 'main', quant: null }],
    [
      'https://huggingface.co/org/repo/resolve/main/model.gguf?download=true',
      { kind: 'hf-file', owner: 'org', repo: 'repo', revision: 'main', path: 'model.gguf' },
    ],
    ['https://huggingface.co/org/repo/blob/main/sub/model.gguf', { kind: 'hf-file', owner: 'org', repo: 'repo', revision: 'main', path: 'sub/model.gguf' }],
    ['https://hf.co/org/repo/resolve/0123abc/My%20Model.gguf', { kind: 'hf-file', owner: 'org', repo: 'repo', revision: '0123abc', path: 'My Model.gguf' }],
    [
      'http://127.0.0.1:9999/org/repo/resolve/main/m.gguf',
      { kind: 'hf-file', owner: 'org', repo: 'repo', revision: 'main', path: 'm.gguf' },
      'http://127.0.0.1:9999',
    ],
    ['https://example.com/models/My%20Model.Q4_0.gguf?sig=x#frag', { kind: 'url', url: 'https://example.com/models/My%20Model.Q4_0.gguf?sig=x', fileName: 'My Model.Q4_0.gguf' }],
    ['http://localhost:8080/m.gguf', { kind: 'url', url: 'http://localhost:8080/m.gguf', fileName: 'm.gguf' }],
    // A /resolve/ path on another host is a plain URL: no /blob/ rewrite, no token.
    ['https://example.com/a/b/resolve/main/m.gguf', { kind: 'url', url: 'https://example.com/a/b/resolve/main/m.gguf', fileName: 'm.gguf' }],
    ['https://example.com/x/%3Cbad%3E%3A.gguf', { kind: 'url', url: 'https://example.com/x/%3Cbad%3E%3A.gguf', fileName: '_bad__.gguf' }],
  ];
  for (const [input, expected, endpoint] of cases) {
    test(input.trim(), () => {
      assert.deepEqual(parseModelSource(input, { endpoint: endpoint ?? HF }), expected);
    });
  }
});

describe('parseModelSource: refused inputs (BAD_INPUT, one line)', () => {
  const cases: Array<[input: string, message: RegExp]> = [
    ['', /no model given/],
    ['hf:', /expected hf:/],
    ['hf:org', /expected hf:/],
    ['hf:org/', /expected hf:/],
    ['hf:/repo/x.gguf', /expected hf:/],
    ['hf:org/repo/model.safetensors', /not a \.gguf file/],
    ['hf:org/repo/../x.gguf', /bad file path/],
    ['hf:org/repo//x.gguf', /bad file path/],
    ['hf:org/repo/a\\b.gguf', /bad characters/],
    ['hf:org/repo:', /empty quantization/],
    ['hf:org/repo:Q4 K', /not a quantization/],
    ['hf:org/repo:Q4/x.gguf', /either a file path or a :<QUANT>/],
    ['hf:org/repo@a/x.gguf#b', /two revisions/],
    ['hf:org/repo/x.gguf#', /empty revision/],
    ['hf:org/re po/x.gguf', /repo name/],
    ['hf:org/repo--x/x.gguf', /repo name/],
    ['hf:-org/repo/x.gguf', /organization name/],
    ['hf:org/repo./x.gguf', /repo name/],
    ['http://example.com/m.gguf', /plain http is only allowed/],
    ['ftp://example.com/m.gguf', /unsupported scheme/],
    ['file:///tmp/m.gguf', /unsupported scheme/],
    ['https://example.com/model.bin', /does not name a \.gguf/],
    ['https://example.com/', /does not name a \.gguf/],
    ['https://huggingface.co/org/repo', /not a Hub file URL/],
    ['https://huggingface.co/org/repo/resolve/main/config.json', /not a \.gguf file/],
    ['https://user:pw@example.com/m.gguf', /user name or password/],
    ['/home/me/model.gguf', /not a model URI or URL/],
    ['C:\\models\\x.gguf', /unsupported scheme/],
    ['https://example.com/%E0%A4%A.gguf', /bad percent-encoding/],
  ];
  for (const [input, message] of cases) {
    test(JSON.stringify(input), () => {
      assert.throws(
        () => parseModelSource(input, { endpoint: HF }),
        (error: unknown) => {
          assert.ok(error instanceof DownloadError, `DownloadError, got ${String(error)}`);
          assert.equal(error.code, 'BAD_INPUT');
          assert.match(error.message, message);
          assert.ok(!error.message.includes('\n'), 'one line');
          return true;
        },
      );
    });
  }
});

describe('Hub endpoint, URLs and canonical text', () => {
  test('HF_ENDPOINT: default, trailing slash dropped, plain http only to loopback', () => {
    assert.equal(hubEndpoint({}), 'https://huggingface.co');
    assert.equal(hubEndpoint({ HF_ENDPOINT: 'https://hf-mirror.com/' }), 'https://hf-mirror.com');
    assert.equal(hubEndpoint({ HF_ENDPOINT: 'http://127.0.0.1:8080' }), 'http://127.0.0.1:8080');
    assert.throws(() => hubEndpoint({ HF_ENDPOINT: 'http://mirror.example.com' }), /plain http/);
    assert.throws(() => hubEndpoint({ HF_ENDPOINT: 'not a url' }), /not a URL/);
  });

  test('resolve URL encodes each path segment and the revision as one segment', () => {
    assert.equal(
      hubResolveUrl('https://huggingface.co/', { owner: 'org', repo: 'repo', revision: 'refs/pr/1', path: 'dir/My Model.gguf' }),
      'https://huggingface.co/org/repo/resolve/refs%2Fpr%2F1/dir/My%20Model.gguf',
    );
  });

  test('canonical text uses node-llama-cpp\'s form and round-trips', () => {
    for (const input of ['hf:org/repo/dir/m.gguf', 'hf:org/repo/m.gguf#dev', 'hf:org/repo:Q4_K_M', 'hf:org/repo:Q8_0#v2', 'hf:org/repo', 'https://example.com/m.gguf']) {
      const parsed = parseModelSource(input, { endpoint: HF });
      assert.equal(formatModelSource(parsed), input);
      assert.deepEqual(parseModelSource(formatModelSource(parsed), { endpoint: HF }), parsed);
    }
    assert.equal(formatModelSource(parseModelSource('hf:org/repo@dev/m.gguf', { endpoint: HF })), 'hf:org/repo/m.gguf#dev');
  });

  test('destination layout: <models>/<org>/<repo>/<file> for the Hub, <models>/<file> for URLs', () => {
    assert.equal(destinationFor('/m', { kind: 'hf-file', owner: 'org', repo: 'repo', revision: 'main', path: 'Q4/x-Q4_K_M.gguf' }), '/m/org/repo/x-Q4_K_M.gguf');
    assert.equal(destinationFor('/m', { kind: 'url', url: 'https://e.com/a.gguf', fileName: 'a.gguf' }), '/m/a.gguf');
  });

  test('Link header pagination', () => {
    assert.equal(nextLink('<https://h/api/x?cursor=2>; rel="next"', 'https://h/api/x'), 'https://h/api/x?cursor=2');
    assert.equal(nextLink('</p?c=3>; rel="prev", </p?c=5>; rel="next"', 'https://h/a'), 'https://h/p?c=5');
    assert.equal(nextLink(null, 'https://h/'), null);
    assert.equal(nextLink('<https://h/x>; rel="prev"', 'https://h/'), null);
  });
});

describe('quantization names and the :QUANT pick', () => {
  test('quantization of a file name', () => {
    const cases: Array<[string, string | null]> = [
      ['Llama-3.2-1B-Instruct-Q4_K_M.gguf', 'Q4_K_M'],
      ['model.q8_0.gguf', 'Q8_0'],
      ['Qwen2.5-0.5B-Instruct-IQ4_XS.gguf', 'IQ4_XS'],
      ['x-Q4_0_4_4.gguf', 'Q4_0_4_4'],
      ['gemma-3-1b-it-BF16.gguf', 'BF16'],
      ['big-Q4_K_M-00001-of-00003.gguf', 'Q4_K_M'],
      ['Qwen3-UD-Q4_K_XL.gguf', 'Q4_K_XL'],
      ['stories260K.gguf', null],
      ['Qwen2-7B.gguf', null],
    ];
    for (const [name, quant] of cases) assert.equal(quantizationOfFileName(name), quant, name);
  });

  const file = (path: string): HubTreeEntry => ({ type: 'file', path, size: 1, lfs: { oid: 'a'.repeat(64), size: 1 } });
  const repo: HubTreeEntry[] = [
    { type: 'directory', path: 'big', size: 0 },
    file('README.md'),
    file('Llama-3.2-1B-Instruct-Q4_K_M.gguf'),
    file('Llama-3.2-1B-Instruct-Q4_K_S.gguf'),
    file('Llama-3.2-1B-Instruct-Q4_K.gguf'),
    file('Llama-3.2-1B-Instruct-Q8_0.gguf'),
    file('mmproj-Llama-3.2-1B-Q8_0.gguf'),
    file('Llama-3.2-1B-Instruct-IQ4_XS.gguf'),
    file('big/Llama-3.2-1B-Instruct-F16-00001-of-00002.gguf'),
    file('big/Llama-3.2-1B-Instruct-F16-00002-of-00002.gguf'),
    file('Llama-3.2-1B-Instruct-Q5_K_M.gguf'),
    file('Llama-3.2-1B-Instruct-abliterated-Q5_K_M.gguf'),
  ];

  test('picks the single file with that quantization, case-insensitively, skipping mmproj and near names', () => {
    assert.equal(pickQuantizationFile(repo, 'Q4_K_M', 'o/r').path, 'Llama-3.2-1B-Instruct-Q4_K_M.gguf');
    assert.equal(pickQuantizationFile(repo, 'q4_k', 'o/r').path, 'Llama-3.2-1B-Instruct-Q4_K.gguf');
    assert.equal(pickQuantizationFile(repo, 'Q8_0', 'o/r').path, 'Llama-3.2-1B-Instruct-Q8_0.gguf');
    assert.equal(pickQuantizationFile(repo, 'IQ4_XS', 'o/r').path, 'Llama-3.2-1B-Instruct-IQ4_XS.gguf');
  });

  test('available quantizations are listed once each (split models by their first part, no mmproj)', () => {
    assert.deepEqual(availableQuantizations(repo), ['F16', 'IQ4_XS', 'Q4_K', 'Q4_K_M', 'Q4_K_S', 'Q5_K_M', 'Q8_0']);
  });

  const refusals: Array<[quant: string | null, code: string, message: RegExp]> = [
    ['Q2_K', 'NOT_FOUND', /no \.gguf file with quantization Q2_K \(available: F16, IQ4_XS, Q4_K, Q4_K_M, Q4_K_S, Q5_K_M, Q8_0\)/],
    ['Q5_K_M', 'BAD_INPUT', /matches several files \(Llama-3\.2-1B-Instruct-Q5_K_M\.gguf, Llama-3\.2-1B-Instruct-abliterated-Q5_K_M\.gguf\)/],
    ['F16', 'BAD_INPUT', /split into 2 files/],
    [null, 'BAD_INPUT', /several GGUF files: add :<QUANT> \(available: F16/],
  ];
  for (const [quant, code, message] of refusals) {
    test(`refuses :${quant ?? '(none)'} with ${code}`, () => {
      assert.throws(
        () => pickQuantizationFile(repo, quant, 'o/r'),
        (e: unknown) => e instanceof DownloadError && e.code === code && message.test(e.message) && !e.message.includes('\n'),
      );
    });
  }

  test('without :QUANT, a repo with one model file gives that file; an empty one is NOT_FOUND', () => {
    assert.equal(pickQuantizationFile([file('README.md'), file('only-Q4_0.gguf'), file('mmproj-f16.gguf')], null, 'o/r').path, 'only-Q4_0.gguf');
    assert.throws(() => pickQuantizationFile([file('README.md')], null, 'o/r'), (e: unknown) => e instanceof DownloadError && e.code === 'NOT_FOUND');
  });
});
