/**
 * Text attachments: which files the composer accepts, and how they are written into the message.
 *
 * An attached file becomes a block at the start of the user's message, the typed text after the blocks:
 *
 *     **notes.md**
 *     ````markdown
 *     …the file, with its line endings made `\n`…
 *     ````
 *
 * The fence is one backtick longer than the longest run of backticks in the file (at least three), so
 * nothing in the file can close it; the info string is a language hint from the file's name. The same
 * text is stored, sent to the model, exported and counted against the context; {@link parseMessage}
 * reads the blocks back for display and for the conversation's title.
 *
 * Pure functions, no Node, DOM or Electron imports: the renderer (composer, message view) and the
 * store (automatic titles) share them.
 */

/**
 * Longest message the contract accepts, in characters (UTF-16 code units, what zod's `max` counts):
 * `messageText` in `shared/contract.ts`.
 */
export const maxMessageChars = 200_000;

/**
 * Largest file accepted, in bytes (190 kB). A file's UTF-16 length never exceeds its UTF-8 byte count,
 * so any one accepted file fits {@link maxMessageChars} with its name, its fences and a typed message of
 * a few thousand characters. Several files together are checked against the message limit.
 */
export const maxAttachmentBytes = 190_000;

/** Why a file was refused. */
export type AttachmentRefusalReason = 'binary' | 'utf16' | 'not-utf8' | 'too-large' | 'empty' | 'duplicate' | 'message-too-long' | 'unreadable';

/** A refused file: its name and the sentence shown to the user. */
export interface AttachmentRefusal {
  /** The file's name as shown (see {@link cleanFileName}). */
  name: string;
  reason: AttachmentRefusalReason;
  /** One sentence naming the file and why, e.g. "photo.png is not a text file". */
  message: string;
}

/** An accepted text file, decoded. */
export interface TextAttachment {
  /** The file's name as shown and written into the message (see {@link cleanFileName}). */
  name: string;
  /** Size of the file as read, bytes. */
  sizeBytes: number;
  /** The file's text, UTF-8 decoded, line endings made `\n`, without a byte-order mark. */
  text: string;
  /** The fence's language hint (see {@link languageFor}). */
  language: string;
}

/** A file block read back from a message by {@link parseMessage}. */
export interface MessageAttachment {
  name: string;
  /** The fence's info string ('' when none). */
  language: string;
  /** The file's text (without the newline before the closing fence). */
  text: string;
}

/** A message split into its file blocks and the typed text after them. */
export interface ParsedMessage {
  attachments: MessageAttachment[];
  /** The typed text; the whole message when it holds no file block. */
  text: string;
}

/** Result of checking or decoding one file. */
export type AttachmentResult = { ok: true; attachment: TextAttachment } | { ok: false; refusal: AttachmentRefusal };

/**
 * Extensions (lower case, no dot) mapped to the fence's language hint: the names highlight.js and
 * GitHub use, so the model (and any Markdown viewer) knows what it reads.
 */
const languageByExtension: Readonly<Record<string, string>> = {
  txt: 'text', text: 'text', log: 'text', out: 'text', rst: 'rst', adoc: 'asciidoc', tex: 'latex',
  md: 'markdown', markdown: 'markdown', mdx: 'markdown',
  csv: 'csv', tsv: 'tsv', json: 'json', jsonl: 'json', ndjson: 'json', json5: 'json5',
  yaml: 'yaml', yml: 'yaml', toml: 'toml', ini: 'ini', cfg: 'ini', conf: 'ini', properties: 'properties', env: 'dotenv',
  xml: 'xml', svg: 'xml', html: 'html', htm: 'html', xhtml: 'html', css: 'css', scss: 'scss', sass: 'sass', less: 'less',
  js: 'javascript', mjs: 'javascript', cjs: 'javascript', jsx: 'jsx', ts: 'typescript', mts: 'typescript', cts: 'typescript', tsx: 'tsx',
  vue: 'vue', svelte: 'svelte', py: 'python', pyi: 'python', ipynb: 'json', rs: 'rust', go: 'go', java: 'java', kt: 'kotlin', kts: 'kotlin',
  scala: 'scala', swift: 'swift', m: 'objectivec', mm: 'objectivec', c: 'c', h: 'c', cpp: 'cpp', cc: 'cpp', cxx: 'cpp', hpp: 'cpp',
  hh: 'cpp', hxx: 'cpp', cs: 'csharp', fs: 'fsharp', rb: 'ruby', php: 'php', pl: 'perl', pm: 'perl', lua: 'lua', r: 'r', jl: 'julia',
  dart: 'dart', ex: 'elixir', exs: 'elixir', erl: 'erlang', hs: 'haskell', ml: 'ocaml', clj: 'clojure', zig: 'zig', nim: 'nim',
  sh: 'bash', bash: 'bash', zsh: 'bash', fish: 'fish', ps1: 'powershell', bat: 'bat', cmd: 'bat',
  sql: 'sql', graphql: 'graphql', gql: 'graphql', proto: 'protobuf', tf: 'hcl', hcl: 'hcl', gradle: 'groovy', groovy: 'groovy',
  cmake: 'cmake', mk: 'makefile', diff: 'diff', patch: 'diff', srt: 'text', vtt: 'text',
};

/** Files without an extension known by their whole name (lower case). */
const languageByName: Readonly<Record<string, string>> = {
  dockerfile: 'dockerfile', makefile: 'makefile', gnumakefile: 'makefile', cmakelists: 'cmake', gemfile: 'ruby', rakefile: 'ruby',
  '.gitignore': 'text', '.env': 'dotenv', license: 'text', readme: 'text',
};

/**
 * Extensions of files that are never text (images, archives, documents, media, executables, model
 * weights): refused by name before reading. Anything else is read and judged by its bytes.
 */
const binaryExtensions = new Set(
  (
    'png jpg jpeg gif webp bmp ico icns tif tiff heic heif avif psd raw cr2 nef pdf zip gz tgz bz2 xz zst 7z rar tar jar war apk ipa ' +
    'exe dll so dylib bin o a lib obj class pyc wasm iso dmg img msi deb rpm gguf ggml safetensors pt pth ckpt onnx tflite npy npz h5 ' +
    'pkl parquet arrow feather sqlite sqlite3 db mdb mp3 wav flac ogg oga opus m4a aac wma mp4 m4v mov avi mkv webm wmv flv ' +
    'doc docx xls xlsx ppt pptx odt ods odp rtf epub mobi pages numbers key ttf otf woff woff2 eot'
  ).split(' '),
);

/** The extension of `name`, lower case without the dot; '' when none (".gitignore" has none). */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : '';
}

/**
 * The language hint for a file's fence, from its extension or its whole name ("Dockerfile"); 'text'
 * for anything else (files without an extension that decoded as text, unknown extensions).
 */
export function languageFor(name: string): string {
  const lower = name.toLowerCase();
  return languageByExtension[extensionOf(lower)] ?? languageByName[lower] ?? 'text';
}

/**
 * A file name made safe to show and to write on one line: control characters and line breaks become
 * spaces, runs of whitespace one space, trimmed, at most 120 characters (cut in the middle, keeping the
 * extension); 'file' when nothing is left.
 */
export function cleanFileName(name: string): string {
  const clean = name.replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, ' ').replace(/\s+/g, ' ').trim();
  const chars = Array.from(clean);
  if (chars.length === 0) return 'file';
  if (chars.length <= 120) return clean;
  return `${chars.slice(0, 80).join('')}…${chars.slice(-39).join('')}`;
}

/** Bytes as people read a file's size: "512 B", "3.2 kB", "3.2 MB" (SI, one decimal below 100). */
export function formatFileSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/**
 * Checks what is known before reading a file: its name, size and MIME type. Refuses known binary
 * extensions and `image/`, `audio/`, `video/` types ("photo.png is not a text file") and files over
 * {@link maxAttachmentBytes} ("big.log is 3.2 MB; the limit is 190 kB"). Returns null when the file
 * should be read and judged by {@link decodeAttachment}.
 */
export function precheckAttachment(file: { name: string; sizeBytes: number; mimeType?: string }): AttachmentRefusal | null {
  const name = cleanFileName(file.name);
  const mime = (file.mimeType ?? '').toLowerCase();
  if (binaryExtensions.has(extensionOf(name)) || /^(image|audio|video|font)\//.test(mime)) {
    // SVG is XML text, whatever its MIME type says.
    if (!(extensionOf(name) === 'svg' || mime === 'image/svg+xml')) return refusal(name, 'binary');
  }
  if (file.sizeBytes > maxAttachmentBytes) {
    return { name, reason: 'too-large', message: `${name} is ${formatFileSize(file.sizeBytes)}; the limit is ${formatFileSize(maxAttachmentBytes)}` };
  }
  return null;
}

/** Control characters that do not occur in text files (all C0 but tab, LF, VT, FF, CR and ESC; DEL). */
const strayControl = /[\u0001-\u0008\u000e-\u001a\u001c-\u001f\u007f]/g;

/**
 * Decodes a file's bytes as text, or says why it is not an attachment: empty, UTF-16 (a byte-order mark:
 * "save it as UTF-8"), binary (a NUL byte, or more than 1% stray control characters), not valid UTF-8
 * (`TextDecoder` with `fatal: true`), or over {@link maxAttachmentBytes}. Strips a UTF-8 byte-order mark
 * and makes line endings `\n`.
 */
export function decodeAttachment(fileName: string, bytes: Uint8Array): AttachmentResult {
  const name = cleanFileName(fileName);
  const sized = precheckAttachment({ name, sizeBytes: bytes.length });
  if (sized) return { ok: false, refusal: sized };
  if (bytes.length === 0) return { ok: false, refusal: refusal(name, 'empty') };
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return { ok: false, refusal: refusal(name, 'utf16') };
  if (bytes.includes(0)) return { ok: false, refusal: refusal(name, 'binary') };
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, refusal: refusal(name, 'not-utf8') };
  }
  const stray = decoded.match(strayControl)?.length ?? 0;
  if (stray > Math.max(4, decoded.length / 100)) return { ok: false, refusal: refusal(name, 'binary') };
  const text = decoded.replace(/\r\n?/g, '\n');
  if (text.trim() === '') return { ok: false, refusal: refusal(name, 'empty') };
  return { ok: true, attachment: { name, sizeBytes: bytes.length, text, language: languageFor(name) } };
}

function refusal(name: string, reason: 'binary' | 'utf16' | 'not-utf8' | 'empty' | 'duplicate'): AttachmentRefusal {
  const message = {
    binary: `${name} is not a text file`,
    utf16: `${name} is UTF-16 text; save it as UTF-8 and attach it again`,
    'not-utf8': `${name} is not UTF-8 text; save it as UTF-8 and attach it again`,
    empty: `${name} is empty`,
    duplicate: `${name} is already attached`,
  }[reason];
  return { name, reason, message };
}

/**
 * Whether `next` may join `current` (both already decoded): refuses the same file twice (same name and
 * text) and a file that would make the message, with the typed text, longer than {@link maxMessageChars}.
 */
export function checkAddition(current: readonly TextAttachment[], next: TextAttachment, typed: string): AttachmentRefusal | null {
  if (current.some((a) => a.name === next.name && a.text === next.text)) return refusal(next.name, 'duplicate');
  const length = composeMessage([...current, next], typed).length;
  if (length > maxMessageChars) {
    return {
      name: next.name,
      reason: 'message-too-long',
      message: `${next.name} would make the message ${length.toLocaleString('en-US')} characters long; the limit is ${maxMessageChars.toLocaleString('en-US')}`,
    };
  }
  return null;
}

/** The fence for `text`: backticks, one more than its longest run of backticks, at least three. */
export function fenceFor(text: string): string {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return '`'.repeat(Math.max(3, longest + 1));
}

/** `name` with `\`, `*` and `` ` `` escaped, so that `**name**` stays one bold file name. */
function escapeName(name: string): string {
  return name.replace(/[\\*`]/g, (c) => `\\${c}`);
}

/**
 * The message text sent for `attachments` and the typed text (trimmed): one block per file (see the
 * module comment), blank lines between blocks, the typed text last. Without attachments: the typed text.
 */
export function composeMessage(attachments: readonly Pick<TextAttachment, 'name' | 'text' | 'language'>[], typed: string): string {
  const blocks = attachments.map((a) => {
    const fence = fenceFor(a.text);
    const body = a.text.endsWith('\n') ? a.text : `${a.text}\n`;
    return `**${escapeName(cleanFileName(a.name))}**\n${fence}${a.language}\n${body}${fence}`;
  });
  const text = typed.trim();
  return [...blocks, ...(text ? [text] : [])].join('\n\n');
}

const headerLine = /\*\*((?:\\.|[^*\\\n])+)\*\*\n/y;
const openingFence = /(`{3,})([^`\n]*)\n/y;

/**
 * Reads back the file blocks at the start of a message written by {@link composeMessage}: a bold name
 * line, an opening fence of three or more backticks, the text, and a line holding exactly the same
 * fence. Stops at the first thing that is not such a block; the rest is the typed text. A message
 * without blocks comes back whole as `text`. Never throws.
 */
export function parseMessage(content: string): ParsedMessage {
  const attachments: MessageAttachment[] = [];
  let pos = 0;
  for (;;) {
    headerLine.lastIndex = pos;
    const header = headerLine.exec(content);
    if (!header) break;
    openingFence.lastIndex = pos + header[0].length;
    const opening = openingFence.exec(content);
    if (!opening) break;
    const fence = opening[1]!;
    const bodyStart = openingFence.lastIndex;
    const close = closingFence(content, bodyStart, fence);
    if (close === null) break;
    attachments.push({
      name: header[1]!.replace(/\\(.)/g, '$1'),
      language: opening[2]!.trim(),
      text: close === bodyStart ? '' : content.slice(bodyStart, close - 1),
    });
    pos = close + fence.length;
    if (content.startsWith('\n\n', pos)) pos += 2;
    else if (content.startsWith('\n', pos)) pos += 1;
  }
  if (attachments.length === 0) return { attachments, text: content };
  return { attachments, text: content.slice(pos).trim() };
}

/** Index of the line at or after `from` that is exactly `fence` (followed by a newline or the end); null if none. */
function closingFence(content: string, from: number, fence: string): number | null {
  let lineStart = from;
  while (lineStart <= content.length) {
    if (content.startsWith(fence, lineStart)) {
      const after = content[lineStart + fence.length];
      if (after === undefined || after === '\n') return lineStart;
    }
    const next = content.indexOf('\n', lineStart);
    if (next === -1) return null;
    lineStart = next + 1;
  }
  return null;
}

/**
 * The text a conversation's automatic title is made from: the typed text of a message with file blocks,
 * or the files' names ("notes.md, data.csv") when nothing was typed; the message itself otherwise.
 */
export function titleSource(content: string): string {
  const parsed = parseMessage(content);
  if (parsed.attachments.length === 0) return content;
  return parsed.text.trim() ? parsed.text : parsed.attachments.map((a) => a.name).join(', ');
}

/**
 * A rough token count for a text, for the attachment chips before the model counts it: UTF-8 bytes ÷ 4
 * (about what Llama/Qwen/Gemma BPE tokenizers give on English prose and code), at least 1.
 */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.round(new TextEncoder().encode(text).length / 4));
}
