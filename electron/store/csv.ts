/**
 * CSV writing for the Energy view's exports: RFC 4180 text with a guard against spreadsheet formula
 * injection. Pure functions, no I/O (the store builds the rows; the caller saves the text).
 *
 * Format (RFC 4180, https://www.rfc-editor.org/rfc/rfc4180):
 * - one header row, then one row per record; every row ends with CRLF (the last one too);
 * - a field is enclosed in double quotes when it contains a comma, a double quote, CR or LF, and a
 *   double quote inside it is doubled; other fields are written as they are;
 * - the text is a JS string: encode it as UTF-8 (no byte-order mark is added).
 *
 * Formula injection (OWASP "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection):
 * a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a
 * single quote `'` so a spreadsheet shows it as text instead of evaluating it. Number cells are never
 * prefixed (a negative number stays a number), and neither is a text cell that is just a plain
 * decimal number such as `-5` or `+1.5e3` (a spreadsheet reads it as that number, not a formula).
 */

/** One cell: text, a number (non-finite → empty), a boolean (`true` / `false`) or empty (null). */
export type CsvCell = string | number | boolean | null;

/** Characters that make a spreadsheet treat a cell as a formula (OWASP CSV Injection). */
const formulaStart = /^[=+\-@\t\r]/;
/** A plain decimal number, optionally signed, with an optional exponent. */
const plainNumber = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The text of one cell before quoting: numbers as JS prints them (`String(n)`, so `0.1`, `1e+21`;
 * NaN and ±Infinity as empty), booleans as `true` / `false`, null as empty, and text with the
 * formula-injection guard applied (see the module doc).
 */
export function cellText(cell: CsvCell): string {
  if (cell === null) return '';
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : '';
  if (typeof cell === 'boolean') return cell ? 'true' : 'false';
  if (formulaStart.test(cell) && !plainNumber.test(cell)) return `'${cell}`;
  return cell;
}

/** One field as RFC 4180 writes it: quoted (quotes doubled) when it holds `,` `"` CR or LF. */
export function quoteField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The whole CSV text: `header` (written as given, quoted where needed) and then `rows`, each cell
 * through {@link cellText} and {@link quoteField}, every row ending with CRLF. A row shorter or
 * longer than the header is written as it is (callers build rows from the same column list).
 */
export function toCsv(header: readonly string[], rows: Iterable<readonly CsvCell[]>): string {
  const lines: string[] = [header.map(quoteField).join(',')];
  for (const row of rows) lines.push(row.map((c) => quoteField(cellText(c))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Longest slug {@link slugify} returns, in characters. */
const maxSlugChars = 40;

/**
 * A file-name-safe slug of `text`: accents removed (NFKD), lower-cased, every run of characters
 * other than `a-z` and `0-9` turned into one `-`, no leading or trailing `-`, cut to 40 characters.
 * Returns `fallback` when nothing is left (a title of only emoji or CJK characters).
 */
export function slugify(text: string, fallback = 'conversation'): string {
  const slug = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxSlugChars)
    .replace(/-+$/g, '');
  return slug === '' ? fallback : slug;
}

/** `YYYY-MM-DD` of the local calendar day holding `at` (ms since the epoch). */
export function localDay(at: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${String(d.getFullYear()).padStart(4, '0')}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * The suggested file name of an export: `wattwise-<kind>-<YYYY-MM-DD>.csv` (local date of `at`),
 * or `wattwise-<kind>-<title slug>-<YYYY-MM-DD>.csv` for one conversation (see {@link slugify}).
 */
export function exportFileName(kind: 'messages' | 'samples', at: number, conversationTitle?: string): string {
  const parts = ['wattwise', kind];
  if (conversationTitle !== undefined) parts.push(slugify(conversationTitle));
  parts.push(localDay(at));
  return `${parts.join('-')}.csv`;
}
