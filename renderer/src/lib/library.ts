/**
 * Words and small helpers for the model library (the Models view): where an installed model was found,
 * a download's state and error in words, its speed and time left, which download belongs to which catalog
 * offer, and the catalog's sort orders. Pure functions, no React.
 */
import type { CatalogOffer, DownloadJob, ExternalModelSource, ModelInfo, ModelSource, Recommendation } from '@shared/contract';
import { formatBytes } from './format';

/** A model source as people call it: "Models folder", "LM Studio", "Ollama", "Hugging Face cache"... */
export function sourceName(source: ModelSource): string {
  switch (source) {
    case 'models-folder':
      return 'Models folder';
    case 'lmstudio':
      return 'LM Studio';
    case 'ollama':
      return 'Ollama';
    case 'huggingface-cache':
      return 'Hugging Face cache';
    case 'gpt4all':
      return 'GPT4All';
    case 'jan':
      return 'Jan';
  }
}

/** Every other app whose folders can be read, in the order Settings lists them. */
export const EXTERNAL_SOURCES: readonly ExternalModelSource[] = ['lmstudio', 'ollama', 'huggingface-cache', 'gpt4all', 'jan'];

/**
 * The badge of an installed model: "Models folder", or the app and what it calls the model ("Ollama:
 * llama3.2:3b", "LM Studio: lmstudio-community/Qwen2.5-GGUF"); the app alone when it has no name for it.
 */
export function sourceBadgeText(model: Pick<ModelInfo, 'source' | 'appName'>): string {
  const name = sourceName(model.source);
  return model.source !== 'models-folder' && model.appName ? `${name}: ${model.appName}` : name;
}

/**
 * The file name to show for an installed model: Ollama keeps its weights as `sha256-<64 hex>` blobs, which
 * say nothing; those are shortened to "Ollama blob sha256-c773a9eb…".
 */
export function displayFileName(model: Pick<ModelInfo, 'fileName' | 'source'>): string {
  const blob = /^sha256[-:]([0-9a-f]{64})$/i.exec(model.fileName);
  return blob ? `${model.source === 'ollama' ? 'Ollama blob ' : ''}sha256-${blob[1]!.slice(0, 12)}…` : model.fileName;
}

/** A figure with its unit ("6.49 tok/s", "≈ 0.76 J/token") as the number part and the unit part. */
export function splitUnit(text: string): { value: string; unit: string } {
  const m = /^(.*\d)\s+(\S+)$/.exec(text);
  return m ? { value: m[1]!, unit: m[2]! } : { value: text, unit: '' };
}

/** Only files in Wattwise's own models folder can be deleted from the app. */
export function canDelete(model: Pick<ModelInfo, 'source'>): boolean {
  return model.source === 'models-folder';
}

/** The governor profiles the recommended ladder serves, as their cards title them. */
export function rungName(profile: Recommendation['profile']): string {
  switch (profile) {
    case 'saver':
      return 'Saver';
    case 'balanced':
      return 'Balanced';
    case 'performance':
      return 'Performance';
  }
}

/** A job that is still going (or waiting to go on by itself). */
export function isRunning(job: Pick<DownloadJob, 'state'>): boolean {
  return job.state === 'queued' || job.state === 'active';
}

/** A job that can still finish: running, or paused (resumable). */
export function isUnfinished(job: Pick<DownloadJob, 'state'>): boolean {
  return isRunning(job) || job.state === 'paused';
}

/** Fraction done 0..1, or null when the size is unknown. A finished job is 1. */
export function downloadFraction(job: Pick<DownloadJob, 'state' | 'progress'>): number | null {
  if (job.state === 'done') return 1;
  const p = job.progress;
  if (!p || p.totalBytes === null || p.totalBytes <= 0) return null;
  return Math.min(1, Math.max(0, p.downloadedBytes / p.totalBytes));
}

/** Download speed as file managers show it: "1.2 MB/s", "850 kB/s"; "—" when nothing moves. */
export function formatSpeed(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '—';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Time left as people say it: "5 s left", "3 min left", "1 h 20 min left"; null when unknown. */
export function formatTimeLeft(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return null;
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${Math.max(1, s)} s left`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min left`;
  const h = Math.floor(min / 60);
  const rest = min % 60;
  return `${h} h${rest ? ` ${rest} min` : ''} left`;
}

/** "512 kB of 1.19 MB", or "512 kB" when the size is not known yet. */
export function formatProgressBytes(job: Pick<DownloadJob, 'progress' | 'result'>): string | null {
  if (job.result) return formatBytes(job.result.sizeBytes);
  const p = job.progress;
  if (!p) return null;
  return p.totalBytes !== null && p.totalBytes > 0 ? `${formatBytes(p.downloadedBytes)} of ${formatBytes(p.totalBytes)}` : formatBytes(p.downloadedBytes);
}

/** A job's state in a word or two. */
export function downloadStateText(job: Pick<DownloadJob, 'state' | 'progress'>): string {
  switch (job.state) {
    case 'queued':
      return 'Waiting to start';
    case 'active':
      return job.progress && job.progress.resumedFromBytes > 0 ? 'Resuming' : 'Downloading';
    case 'paused':
      return 'Paused';
    case 'done':
      return 'Downloaded';
    case 'failed':
      return 'Failed';
    case 'cancelled':
      return 'Cancelled';
  }
}

/**
 * What went wrong, in words the user can act on, by the downloader's code (electron/models/download:
 * NOT_FOUND, AUTH, NETWORK, DISK_FULL, CORRUPT, EXISTS, BUSY, IO, BAD_INPUT, ABORTED); the downloader's own
 * one-line message for a code this does not know.
 */
export function downloadErrorText(error: NonNullable<DownloadJob['error']>): string {
  switch (error.code) {
    case 'CORRUPT':
      return 'The file did not match its checksum and was removed. Try again; if it keeps failing, the source may have changed.';
    case 'NOT_FOUND':
      return 'Not found: the repository, revision or file does not exist (check the name).';
    case 'AUTH':
      return 'Access denied: the repository is gated or private. Accept its terms on Hugging Face and set HF_TOKEN.';
    case 'NETWORK':
      return 'The server could not be reached or kept failing. Check the connection and resume.';
    case 'DISK_FULL':
      return 'Not enough free disk space for this file. Free some space, then resume.';
    case 'EXISTS':
      return 'A different file with this name is already in the models folder; it was not overwritten.';
    case 'BUSY':
      return 'This file is already being downloaded.';
    case 'IO':
      return 'The file could not be written to the models folder (permissions or a read-only disk).';
    case 'BAD_INPUT':
      return 'This source cannot be downloaded.';
    case 'ABORTED':
      return 'Stopped before it finished.';
    default:
      return sentence(error.message) || 'The download failed.';
  }
}

function sentence(text: string): string {
  const t = text.trim();
  return !t || /[.!?…)]$/.test(t) ? t : `${t}.`;
}

/** The last path segment of a path, URL or `hf:` URI (without a query). */
function lastSegment(text: string): string {
  const clean = text.split(/[?#]/)[0] ?? text;
  const parts = clean.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? text;
}

/** The file a job writes: its destination's name once known, else the last segment of what was asked. */
export function downloadFileName(job: Pick<DownloadJob, 'destPath' | 'source' | 'input' | 'result'>): string {
  const path = job.result?.path ?? job.destPath;
  if (path) return lastSegment(path);
  return lastSegment(job.source ?? job.input);
}

/** Whether `job` downloads `offer`: the same URI asked or resolved, or the same file name at the destination. */
export function jobMatchesOffer(job: Pick<DownloadJob, 'input' | 'source' | 'destPath' | 'result'>, offer: Pick<CatalogOffer, 'uri' | 'entry'>): boolean {
  if (job.input === offer.uri || job.source === offer.uri) return true;
  const path = job.result?.path ?? job.destPath;
  return path !== null && lastSegment(path) === offer.entry.file;
}

/**
 * The job of `offer` to show on its card: the newest unfinished one, else the newest of any state (the
 * list is in arrival order, newest last); undefined when it was never asked for.
 */
export function jobForOffer(jobs: readonly DownloadJob[], offer: Pick<CatalogOffer, 'uri' | 'entry'>): DownloadJob | undefined {
  const mine = jobs.filter((j) => jobMatchesOffer(j, offer));
  return [...mine].reverse().find(isUnfinished) ?? mine[mine.length - 1];
}

/** The catalog table's sortable columns. */
export type CatalogSortKey = 'size' | 'quality' | 'energy' | 'speed' | 'name';

/** Sorts offers by `key` (ties by name, then size); `ascending` false reverses the main order. */
export function sortOffers(offers: readonly CatalogOffer[], key: CatalogSortKey, ascending: boolean): CatalogOffer[] {
  const value = (o: CatalogOffer): number | string => {
    switch (key) {
      case 'size':
        return o.entry.sizeBytes;
      case 'quality':
        return o.quality;
      case 'energy':
        return o.predicted.energyJPerToken;
      case 'speed':
        return o.predicted.decodeTokensPerSecond;
      case 'name':
        return o.entry.name.toLowerCase();
    }
  };
  const sign = ascending ? 1 : -1;
  return [...offers].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    const main = typeof va === 'string' || typeof vb === 'string' ? String(va).localeCompare(String(vb)) : va - vb;
    return sign * main || a.entry.name.localeCompare(b.entry.name) || a.entry.sizeBytes - b.entry.sizeBytes;
  });
}

/** The order a column sorts in when first clicked: smaller files and fewer joules first, better quality and speed first. */
export function defaultAscending(key: CatalogSortKey): boolean {
  return key === 'size' || key === 'energy' || key === 'name';
}

/**
 * Whether the text in the "Download from Hugging Face or a URL" field looks like something the downloader
 * takes: `hf:org/repo/file.gguf`, `hf:org/repo:QUANT`, or an http(s) URL. The backend decides for good
 * (BAD_INPUT); this only keeps the button off for empty or plainly wrong text.
 */
export function looksLikeSource(text: string): boolean {
  const t = text.trim();
  if (/^hf:[^\s/]+\/[^\s/:]+(\/\S+|:[A-Za-z0-9_]+)$/.test(t)) return true;
  return /^https?:\/\/\S+$/i.test(t);
}
