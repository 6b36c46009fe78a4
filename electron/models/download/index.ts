/**
 * Model downloads: pull GGUF files from the Hugging Face Hub (`hf:` URIs, Hub URLs, `:QUANT` shorthand) or any
 * https URL into the models folder, resumable across restarts, verified against the Hub's sha256, pausable and
 * cancellable. See `downloader.ts` for the guarantees and `hfUri.ts` for the accepted inputs.
 *
 * Typical use:
 * ```ts
 * const result = await pullModel('hf:bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M', { modelsDir, onProgress });
 * ```
 */
export {
  DEFAULT_HF_ENDPOINT,
  DEFAULT_REVISION,
  DownloadError,
  formatModelSource,
  hubEndpoint,
  hubResolveUrl,
  parseModelSource,
  type DownloadErrorCode,
  type HubFileSource,
  type HubQuantSource,
  type ModelSource,
  type UrlSource,
} from './hfUri.js';
export {
  availableQuantizations,
  DEFAULT_RETRY,
  fileNameHasQuantization,
  hubConfigFromEnv,
  listHubFiles,
  pickQuantizationFile,
  probeRemoteFile,
  quantizationOfFileName,
  resolveModelSource,
  type HubConfig,
  type HubTreeEntry,
  type RemoteFileInfo,
  type ResolvedSource,
  type RetryPolicy,
} from './hub.js';
export {
  DEFAULT_DISK_MARGIN_BYTES,
  DEFAULT_STALL_TIMEOUT_MS,
  destinationFor,
  discardPartialDownload,
  DownloadManager,
  listPartialDownloads,
  partPaths,
  pullModel,
  sha256OfFile,
  startPull,
  statfsFreeBytes,
  type AbortMode,
  type DownloadJob,
  type DownloadJobState,
  type DownloadManagerEvents,
  type DownloadProgress,
  type DownloadResult,
  type DownloadTuning,
  type FreeSpaceProbe,
  type PartialDownload,
  type PartialDownloadSidecar,
  type PullHandle,
  type PullOptions,
  type ResolvedPull,
} from './downloader.js';
