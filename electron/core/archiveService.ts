/**
 * Export, import and backup behind the API contract (`history.export`, `history.import`, `backup.*`): the backend
 * binds these methods to the calls; the CLI (`history export|import`) goes through the same calls.
 *
 * - Export: one conversation or every chat conversation as an archive (`shared/archive.ts`, JSON: everything,
 *   power traces and the user presets they use included) or as readable Markdown.
 * - Import: an archive's JSON text, checked whole before anything is written (see `electron/store/archive.ts`).
 * - Backups: SQLite's online backup into `<data folder>/backups`, their list, and a restore staged for the next
 *   start (`electron/store/restore.ts`).
 *
 * Errors are thrown as {@link ArchiveServiceError} with a code from the contract's closed set (`BAD_INPUT` for an
 * archive or backup that cannot be used, saying what is wrong; `NOT_FOUND`; `BUSY` while a backup is being made),
 * or as the store's `StoreError` (`STORAGE_FULL`, `STORAGE_FAILED`). No Electron imports.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiError, ConversationDetail } from '../../shared/contract.js';
import {
  buildConversationArchive,
  conversationToMarkdown,
  conversationsToMarkdown,
  parseConversationArchive,
  type ArchivedConversation,
  type ConversationArchive,
} from '../../shared/archive.js';
import type { BackupInfo, BackupList, ExportFile, ImportResult } from '../../shared/dataContract.js';
import { isBuiltInPresetId, type Preset } from '../../shared/presets.js';
import type { Store } from '../store/store.js';
import { ArchiveImportError } from '../store/archive.js';
import { BackupCheckError, backupTimeFromName, backupsDir, listBackupFiles, newBackupName } from '../store/backup.js';
import { cancelRestore, lastRestoreOutcome, pendingRestore, stageRestore } from '../store/restore.js';
import { localDay, slugify } from '../store/csv.js';

/** A data call that cannot be done, with the code and one-line message the caller gets. */
export class ArchiveServiceError extends Error {
  override readonly name = 'ArchiveServiceError';
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

/** Options of {@link ArchiveService}. */
export interface ArchiveServiceOptions {
  store: Store;
  /** The data folder (backups go to `<dataDir>/backups`, the restore marker beside the database). */
  dataDir: string;
  /** App version, written into archives (`exportedBy`). */
  version: string;
  /** Called with the ids of imported conversations (the backend sends `conversations.changed`). */
  onImported?: (conversationIds: string[]) => void;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
}

/** MIME types of the two export formats. */
const mimeTypes = { md: 'text/markdown;charset=utf-8', json: 'application/json;charset=utf-8' } as const;

/** Export, import and backups over one store. */
export class ArchiveService {
  private backupInFlight = false;

  constructor(private readonly options: ArchiveServiceOptions) {}

  private now(): number {
    return Math.trunc((this.options.now ?? Date.now)());
  }

  /**
   * One conversation (`conversationId`) or every chat conversation (the sidebar's; the local API's daily
   * conversations are left out unless asked for by id), as Markdown or as an archive (JSON, pretty-printed).
   * File names: `wattwise-<title slug>-<YYYY-MM-DD>.<md|json>` for one, `wattwise-conversations-<YYYY-MM-DD>.<md|json>` for all.
   * @throws ArchiveServiceError `NOT_FOUND` for an unknown conversation; StoreError when the store cannot be read.
   */
  exportHistory(input: { conversationId?: string; format: 'md' | 'json' }): ExportFile {
    const { store } = this.options;
    let details: ConversationDetail[];
    if (input.conversationId !== undefined) {
      const detail = store.getConversation(input.conversationId);
      if (!detail) throw new ArchiveServiceError({ code: 'NOT_FOUND', message: `No conversation with id ${input.conversationId}` });
      details = [detail];
    } else {
      details = store
        .listConversations()
        .map((c) => store.getConversation(c.id))
        .filter((d): d is ConversationDetail => d !== null)
        // Oldest first, like the messages inside each.
        .reverse();
    }
    const at = this.now();
    const single = input.conversationId !== undefined ? details[0] : undefined;
    const fileName = `wattwise-${single ? slugify(single.conversation.title) : 'conversations'}-${localDay(at)}.${input.format}`;
    if (input.format === 'md') {
      return { fileName, mimeType: mimeTypes.md, text: single ? conversationToMarkdown(single) : conversationsToMarkdown(details) };
    }
    return { fileName, mimeType: mimeTypes.json, text: `${JSON.stringify(this.archiveOf(details, at), null, 2)}\n` };
  }

  /** The archive of `details`: each with its power trace, and the user presets they use. */
  archiveOf(details: ConversationDetail[], exportedAt: number): ConversationArchive {
    const { store } = this.options;
    const conversations: ArchivedConversation[] = details.map((d) => ({
      conversation: d.conversation,
      messages: d.messages,
      powerSamples: store.archive.powerSamples(d.conversation.id),
    }));
    const presets: Preset[] = [];
    for (const presetId of new Set(details.map((d) => d.conversation.presetId))) {
      if (presetId === null || isBuiltInPresetId(presetId)) continue;
      const preset = store.presets.get(presetId);
      if (preset) presets.push(preset);
    }
    return buildConversationArchive(conversations, { exportedAt, exportedBy: `Wattwise ${this.options.version}`, presets });
  }

  /**
   * Imports an archive from its JSON text (see `Store.importConversations`): everything is checked before anything
   * is written; ids are kept unless taken here (then new ones).
   * @throws ArchiveServiceError `BAD_INPUT` saying what is wrong with the text (nothing written); StoreError for storage failures.
   */
  importHistory(text: string): ImportResult {
    const parsed = parseConversationArchive(text);
    if (!parsed.ok) throw new ArchiveServiceError({ code: 'BAD_INPUT', message: `This file cannot be imported: ${parsed.message}` });
    let result: ImportResult;
    try {
      result = this.options.store.importConversations(parsed.archive);
    } catch (error) {
      if (error instanceof ArchiveImportError) throw new ArchiveServiceError({ code: 'BAD_INPUT', message: `This file cannot be imported: ${error.message}` });
      throw error;
    }
    if (result.conversationIds.length > 0) this.options.onImported?.(result.conversationIds);
    return result;
  }

  /** `<data folder>/backups`. */
  backupsFolder(): string {
    return backupsDir(this.options.dataDir);
  }

  /**
   * Backs the database up now (SQLite's online backup; the app keeps working meanwhile) into
   * `<data folder>/backups/wattwise-<UTC time>.db`.
   * @throws ArchiveServiceError `BUSY` while another backup is being made; StoreError (`STORAGE_FULL` when the
   *   disk is full: no partial file is left) or BackupCheckError-derived `STORAGE_FAILED` when the copy fails its check.
   */
  async createBackup(): Promise<BackupInfo> {
    if (this.backupInFlight) throw new ArchiveServiceError({ code: 'BUSY', message: 'A backup is being made: wait for it to finish' });
    this.backupInFlight = true;
    try {
      const dir = this.backupsFolder();
      mkdirSync(dir, { recursive: true });
      const at = this.now();
      const name = newBackupName(dir, at);
      let bytes: number;
      try {
        bytes = await this.options.store.backupDatabase(join(dir, name));
      } catch (error) {
        if (error instanceof BackupCheckError) throw new ArchiveServiceError({ code: 'STORAGE_FAILED', message: `The backup failed its check: ${error.message}` });
        throw error;
      }
      return { name, bytes, createdAt: backupTimeFromName(name) ?? at };
    } finally {
      this.backupInFlight = false;
    }
  }

  /** The backups (newest first), the restore waiting for the next start, and how the last one ended. */
  listBackups(): BackupList {
    const folder = this.backupsFolder();
    return { folder, backups: listBackupFiles(folder), pendingRestore: pendingRestore(this.options.dataDir), lastRestore: lastRestoreOutcome(this.options.dataDir) };
  }

  /**
   * Checks backup `name` now and asks for it to replace the database at the next start (the current one is then
   * kept as `wattwise.sqlite.before-restore-<time>`).
   * @throws ArchiveServiceError `NOT_FOUND` for no such backup; `BAD_INPUT` for one that fails the check (damaged,
   *   not Wattwise's, newer), saying why; StoreError `STORAGE_FAILED` when the marker cannot be written.
   */
  restoreBackup(name: string): { stagedFor: 'next-start'; backup: string } {
    const path = join(this.backupsFolder(), name);
    if (!existsSync(path)) throw new ArchiveServiceError({ code: 'NOT_FOUND', message: `No backup named ${name} in ${this.backupsFolder()}` });
    try {
      this.options.store.checkDatabaseFile(path);
    } catch (error) {
      if (error instanceof BackupCheckError) throw new ArchiveServiceError({ code: 'BAD_INPUT', message: error.message });
      throw error;
    }
    try {
      stageRestore(this.options.dataDir, name, this.now());
    } catch (error) {
      throw new ArchiveServiceError({ code: 'STORAGE_FAILED', message: `The restore could not be prepared: ${error instanceof Error ? error.message : String(error)}` });
    }
    return { stagedFor: 'next-start', backup: name };
  }

  /** Forgets the restore waiting for the next start. @returns whether there was one. */
  cancelRestore(): { cancelled: boolean } {
    return { cancelled: cancelRestore(this.options.dataDir) };
  }
}
