/**
 * Schemas of the data calls of the API contract (`history.export`, `history.import`, `backup.*`), kept apart
 * from `shared/contract.ts`, which imports them. This file imports nothing from the contract (the archive format,
 * `shared/archive.ts`, does, so the contract must not depend on it).
 *
 * Units: timestamps ms since the Unix epoch, sizes in bytes. Pure module: no Node, DOM or Electron imports.
 */
import { z } from 'zod';

/**
 * Longest archive text an import takes, in characters (32 Mi: thousands of long conversations; a design
 * choice, not a measurement). `shared/archive.ts` and the `history.import` call both use it.
 */
export const maxArchiveTextChars = 32 * 1024 * 1024;

/** Milliseconds since the Unix epoch. */
const epochMs = z.number().int().nonnegative();

/**
 * A backup's file name inside `<data folder>/backups`: `wattwise-<UTC time>.db`, e.g.
 * `wattwise-2024-05-01T12-30-05-123Z.db` (optionally `-2`, `-3`… before `.db` when two fall in one ms).
 * Only such names are accepted, so a name can never reach outside the backups folder.
 */
export const backupNameSchema = z
  .string()
  .max(80)
  .regex(/^wattwise-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z(-\d{1,3})?\.db$/, 'a backup name such as wattwise-2024-05-01T12-30-05-123Z.db');

/** One backup file. */
export const backupInfoSchema = z.object({
  /** File name in `<data folder>/backups`. */
  name: backupNameSchema,
  /** Size of the file, bytes. */
  bytes: z.number().int().nonnegative(),
  /** When it was made (from its name; the file's time when the name does not tell), ms since the epoch. */
  createdAt: epochMs,
});
/** One backup file. */
export type BackupInfo = z.infer<typeof backupInfoSchema>;

/** How the last staged restore ended (at the start after it was asked for). */
export const restoreOutcomeSchema = z.object({
  state: z.enum(['restored', 'refused']),
  /** The backup that was to be restored. */
  backup: z.string(),
  /** When the start that handled it ran, ms since the epoch. */
  at: epochMs,
  /** Restored: where the previous database was moved (`wattwise.sqlite.before-restore-<time>`); refused: why, in one line. */
  detail: z.string(),
});
/** How the last staged restore ended. */
export type RestoreOutcome = z.infer<typeof restoreOutcomeSchema>;

/** The backups folder: the backups (newest first), the restore waiting for the next start, and how the last one ended. */
export const backupListSchema = z.object({
  /** `<data folder>/backups`. */
  folder: z.string(),
  backups: z.array(backupInfoSchema),
  /** The backup that will replace the database at the next start, or null. */
  pendingRestore: z.string().nullable(),
  /** The last staged restore's outcome, or null when there was none. */
  lastRestore: restoreOutcomeSchema.nullable(),
});
/** The backups folder. */
export type BackupList = z.infer<typeof backupListSchema>;

/** An export, ready to be saved as a file. */
export const exportFileSchema = z.object({
  /** Suggested name, e.g. `wattwise-once-upon-a-time-2024-05-01.md` or `wattwise-conversations-2024-05-01.json`. */
  fileName: z.string(),
  /** `text/markdown;charset=utf-8` or `application/json;charset=utf-8`. */
  mimeType: z.string(),
  text: z.string(),
});
/** An export, ready to be saved as a file. */
export type ExportFile = z.infer<typeof exportFileSchema>;

/** What an import did. */
export const importResultSchema = z.object({
  /** Conversations added. */
  imported: z.number().int().nonnegative(),
  /** Their ids in this database, in the archive's order. */
  conversationIds: z.array(z.string()),
  /** How many got new ids because theirs (or one of their messages') was already taken. */
  renamedIds: z.number().int().nonnegative(),
  /** Messages added over all conversations. */
  messages: z.number().int().nonnegative(),
});
/** What an import did. */
export type ImportResult = z.infer<typeof importResultSchema>;
