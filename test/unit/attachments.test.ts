/**
 * Text attachments (shared/attachments.ts): which files are accepted, every refusal with its sentence,
 * the message text they become (fence longer than any backtick run, language hint) and the round trip
 * back to file blocks for display and titles.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkAddition,
  cleanFileName,
  composeMessage,
  decodeAttachment,
  estimateTokens,
  fenceFor,
  formatFileSize,
  languageFor,
  maxAttachmentBytes,
  maxMessageChars,
  parseMessage,
  precheckAttachment,
  titleSource,
  type TextAttachment,
} from '../../shared/attachments.js';
import { deriveTitle } from '../../electron/store/store.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

function accepted(name: string, text: string): TextAttachment {
  const result = decodeAttachment(name, utf8(text));
  assert.ok(result.ok, `expected ${name} to be accepted: ${result.ok ? '' : result.refusal.message}`);
  return result.attachment;
}

function refused(name: string, bytes: Uint8Array) {
  const result = decodeAttachment(name, bytes);
  assert.ok(!result.ok, `expected ${name} to be refused`);
  return result.refusal;
}

describe('which files are accepted', () => {
  test('text and source files of every listed kind decode, with a language hint from the extension', () => {
    const cases: [string, string][] = [
      ['notes.txt', 'text'], ['README.md', 'markdown'], ['a.markdown', 'markdown'], ['data.csv', 'csv'], ['data.tsv', 'tsv'],
      ['x.json', 'json'], ['c.yaml', 'yaml'], ['c.yml', 'yaml'], ['f.xml', 'xml'], ['p.html', 'html'], ['s.css', 'css'],
      ['a.js', 'javascript'], ['a.ts', 'typescript'], ['a.tsx', 'tsx'], ['a.jsx', 'jsx'], ['a.py', 'python'], ['a.rs', 'rust'],
      ['a.go', 'go'], ['A.java', 'java'], ['a.c', 'c'], ['a.h', 'c'], ['a.cpp', 'cpp'], ['a.hpp', 'cpp'], ['a.cs', 'csharp'],
      ['a.rb', 'ruby'], ['a.php', 'php'], ['run.sh', 'bash'], ['q.sql', 'sql'], ['Cargo.toml', 'toml'], ['s.ini', 'ini'],
      ['app.log', 'text'], ['Dockerfile', 'dockerfile'], ['Makefile', 'makefile'], ['NOTES', 'text'], ['x.unknownext', 'text'],
      ['icon.svg', 'xml'],
    ];
    for (const [name, language] of cases) {
      const a = accepted(name, 'hello = "world"\n');
      assert.equal(a.language, language, name);
      assert.equal(a.name, name);
      assert.equal(a.text, 'hello = "world"\n');
      assert.equal(a.sizeBytes, 16);
    }
    assert.equal(languageFor('SCRIPT.PY'), 'python', 'extensions are matched case-insensitively');
  });

  test('UTF-8 beyond ASCII is kept; CRLF and CR become LF; a UTF-8 byte-order mark is dropped', () => {
    const a = accepted('café.md', '\ufeffÉtoile — 星\r\nline two\rline three');
    assert.equal(a.text, 'Étoile — 星\nline two\nline three');
    assert.equal(a.sizeBytes, utf8('\ufeffÉtoile — 星\r\nline two\rline three').length);
  });

  test('tabs, form feeds and ANSI colour escapes in logs are text', () => {
    accepted('build.log', '\u001b[32mok\u001b[0m\tdone\f\n');
  });

  test('a NUL byte makes a file binary, whatever its name', () => {
    const r = refused('notes.txt', new Uint8Array([0x68, 0x69, 0x00, 0x0a]));
    assert.equal(r.reason, 'binary');
    assert.equal(r.message, 'notes.txt is not a text file');
  });

  test('known binary extensions and image/audio/video types are refused before reading', () => {
    assert.equal(precheckAttachment({ name: 'photo.png', sizeBytes: 10 })?.message, 'photo.png is not a text file');
    assert.equal(precheckAttachment({ name: 'model.gguf', sizeBytes: 10 })?.reason, 'binary');
    assert.equal(precheckAttachment({ name: 'report.docx', sizeBytes: 10 })?.reason, 'binary');
    assert.equal(precheckAttachment({ name: 'clip', sizeBytes: 10, mimeType: 'video/mp4' })?.reason, 'binary');
    assert.equal(precheckAttachment({ name: 'image.svg', sizeBytes: 10, mimeType: 'image/svg+xml' }), null, 'SVG is XML text');
    assert.equal(precheckAttachment({ name: 'notes.md', sizeBytes: 10, mimeType: 'text/markdown' }), null);
    // Even with text bytes, a .png name is refused (it is not what the user meant to attach).
    assert.equal(refused('photo.png', utf8('hello')).reason, 'binary');
  });

  test('many stray control characters make a file binary', () => {
    const bytes = new Uint8Array(400).map((_, i) => (i % 3 === 0 ? 0x01 : 0x61));
    assert.equal(refused('data.bin.txt', bytes).reason, 'binary');
  });

  test('invalid UTF-8 (Latin-1) is refused with a way out', () => {
    const r = refused('latin1.txt', new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    assert.equal(r.reason, 'not-utf8');
    assert.equal(r.message, 'latin1.txt is not UTF-8 text; save it as UTF-8 and attach it again');
  });

  test('UTF-16 (byte-order mark) is refused as such, not as binary', () => {
    const le = new Uint8Array([0xff, 0xfe, 0x68, 0x00, 0x69, 0x00]);
    assert.equal(refused('win.txt', le).reason, 'utf16');
    assert.equal(refused('mac.txt', new Uint8Array([0xfe, 0xff, 0x00, 0x68])).reason, 'utf16');
    assert.match(refused('win.txt', le).message, /^win\.txt is UTF-16 text; save it as UTF-8/);
  });

  test('an empty or blank file is refused', () => {
    assert.equal(refused('empty.txt', new Uint8Array()).message, 'empty.txt is empty');
    assert.equal(refused('blank.txt', utf8(' \n\t\n')).reason, 'empty');
  });

  test('a file over the size limit is refused with both sizes, before and after reading', () => {
    assert.equal(precheckAttachment({ name: 'big.log', sizeBytes: 3_200_000 })?.message, 'big.log is 3.2 MB; the limit is 190 kB');
    assert.equal(precheckAttachment({ name: 'edge.txt', sizeBytes: maxAttachmentBytes }), null, 'exactly the limit is accepted');
    const r = refused('over.txt', new Uint8Array(maxAttachmentBytes + 1).fill(0x61));
    assert.equal(r.reason, 'too-large');
    assert.equal(r.message, 'over.txt is 190 kB; the limit is 190 kB');
  });

  test('one file of the largest accepted size fits the message limit with a typed question', () => {
    const a = accepted('max.txt', 'a'.repeat(maxAttachmentBytes));
    assert.equal(checkAddition([], a, 'Summarize this file, please.'), null);
    assert.ok(composeMessage([a], 'Summarize this file, please.').length <= maxMessageChars);
  });

  test('files that together pass the message limit are refused, naming the file that would not fit', () => {
    const first = accepted('one.txt', 'a'.repeat(150_000));
    const second = accepted('two.txt', 'b'.repeat(60_000));
    const r = checkAddition([first], second, '');
    assert.equal(r?.reason, 'message-too-long');
    assert.match(r?.message ?? '', /^two\.txt would make the message 210,0\d\d characters long; the limit is 200,000$/);
  });

  test('the same file twice is refused; the same name with other text is not', () => {
    const a = accepted('notes.md', '# A\n');
    assert.equal(checkAddition([a], accepted('notes.md', '# A\n'), '')?.message, 'notes.md is already attached');
    assert.equal(checkAddition([a], accepted('notes.md', '# B\n'), ''), null);
  });

  test('file names are cleaned: line breaks and control characters go, long names are cut keeping the extension', () => {
    assert.equal(cleanFileName('evil\nname\u0000.md'), 'evil name .md');
    assert.equal(cleanFileName('  \u0007 '), 'file');
    const long = cleanFileName(`${'x'.repeat(300)}.md`);
    assert.equal(Array.from(long).length, 120);
    assert.ok(long.endsWith('x.md'));
  });

  test('sizes read like a file manager', () => {
    assert.equal(formatFileSize(512), '512 B');
    assert.equal(formatFileSize(1234), '1.2 kB');
    assert.equal(formatFileSize(190_000), '190 kB');
    assert.equal(formatFileSize(3_200_000), '3.2 MB');
    assert.equal(formatFileSize(999_999), '1.0 MB');
  });

  test('the token estimate grows with the text', () => {
    assert.equal(estimateTokens(''), 1);
    assert.equal(estimateTokens('a'.repeat(400)), 100);
    assert.ok(estimateTokens('星'.repeat(100)) > estimateTokens('a'.repeat(100)), 'multi-byte text counts more');
  });
});

describe('the message text', () => {
  test('a file becomes a bold name, a fenced block with its language, then the typed text', () => {
    const notes = accepted('notes.md', '# Plan\n\n- one\n- two\n');
    assert.equal(composeMessage([notes], '  What is step two?  '), '**notes.md**\n```markdown\n# Plan\n\n- one\n- two\n```\n\nWhat is step two?');
  });

  test('a file without a final newline still gets its closing fence on its own line', () => {
    assert.equal(composeMessage([accepted('a.py', 'print(1)')], ''), '**a.py**\n```python\nprint(1)\n```');
  });

  test('the fence is longer than any backtick run inside the file', () => {
    assert.equal(fenceFor('no ticks'), '```');
    assert.equal(fenceFor('inline `code` here'), '```');
    assert.equal(fenceFor('```js\nx\n```'), '````');
    assert.equal(fenceFor('a ````` b'), '``````');
    const readme = accepted('README.md', 'Use:\n\n````sh\nnpm i\n````\n');
    const message = composeMessage([readme], 'Explain');
    assert.ok(message.startsWith('**README.md**\n`````markdown\n'));
    assert.deepEqual(parseMessage(message), { attachments: [{ name: 'README.md', language: 'markdown', text: 'Use:\n\n````sh\nnpm i\n````' }], text: 'Explain' });
  });

  test('names with Markdown characters survive the round trip', () => {
    const a = accepted('we*ird`name\\.txt', 'x\n');
    const message = composeMessage([a], 'q');
    assert.ok(message.startsWith('**we\\*ird\\`name\\\\.txt**\n'));
    assert.equal(parseMessage(message).attachments[0]?.name, 'we*ird`name\\.txt');
  });

  test('several files and typed text read back exactly', () => {
    const files = [accepted('a.ts', 'const a = 1;\n'), accepted('data.csv', 'x,y\n1,2'), accepted('empty-lines.txt', '\n\nz\n\n')];
    const message = composeMessage(files, 'Compare them.\n\n```js\nnot a file\n```');
    const parsed = parseMessage(message);
    assert.deepEqual(
      parsed.attachments.map((a) => [a.name, a.language, a.text]),
      [
        ['a.ts', 'typescript', 'const a = 1;'],
        ['data.csv', 'csv', 'x,y\n1,2'],
        ['empty-lines.txt', 'text', '\n\nz\n'],
      ],
    );
    assert.equal(parsed.text, 'Compare them.\n\n```js\nnot a file\n```');
  });

  test('files only: no typed text', () => {
    const parsed = parseMessage(composeMessage([accepted('a.md', 'hi')], '   '));
    assert.equal(parsed.attachments.length, 1);
    assert.equal(parsed.text, '');
  });

  test('ordinary messages, and blocks that are not closed, stay plain text', () => {
    for (const text of ['Hello', '**Bold** start\nno fence', '**notes.md**\n```md\nnever closed', '```js\ncode\n```', 'Text then\n**a.md**\n```\nx\n```']) {
      assert.deepEqual(parseMessage(text), { attachments: [], text });
    }
  });
});

describe('automatic titles of messages with files', () => {
  test('the typed text names the chat, or the files when nothing was typed', () => {
    const notes = accepted('notes.md', '# Plan\n');
    const csv = accepted('data.csv', 'a,b\n');
    assert.equal(titleSource(composeMessage([notes], 'Summarize my plan')), 'Summarize my plan');
    assert.equal(titleSource(composeMessage([notes, csv], '')), 'notes.md, data.csv');
    assert.equal(titleSource('Plain question'), 'Plain question');
    assert.equal(deriveTitle(composeMessage([notes], 'Summarize my plan\nand more')), 'Summarize my plan');
    assert.equal(deriveTitle(composeMessage([notes, csv], '')), 'notes.md, data.csv');
  });
});
