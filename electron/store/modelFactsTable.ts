/**
 * A persistent cache of what reading a model file's header costs to learn (table `model_facts`,
 * migration 006): the catalog's `ModelInfo` and node-llama-cpp's memory estimates, per path and kind,
 * valid while the file's stat key (device, inode, size and mtime of every part) and the reader's version
 * are the same. Values are JSON checked with a schema when read back; anything that does not parse counts
 * as a miss. Never throws: a cache that cannot be read or written only costs time.
 *
 * Part of the {@link import('./store.js').Store} (`store.modelFacts`).
 */
import type Database from 'better-sqlite3';
import type { z } from 'zod';
import type { FactCache } from '../models/fileIdentity.js';

interface Row {
  stat_key: string;
  reader_version: string;
  value_json: string;
}

/** The `model_facts` table. */
export class ModelFactsTable {
  private readonly getRow: Database.Statement<[string, string], Row>;
  private readonly putRow: Database.Statement<[string, string, string, string, string, number]>;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
  ) {
    this.getRow = db.prepare(`SELECT stat_key, reader_version, value_json FROM model_facts WHERE path = ? AND kind = ?`);
    this.putRow = db.prepare(`
      INSERT INTO model_facts (path, kind, stat_key, reader_version, value_json, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (path, kind) DO UPDATE SET stat_key = excluded.stat_key, reader_version = excluded.reader_version,
        value_json = excluded.value_json, updated_at = excluded.updated_at`);
  }

  /**
   * A cache of one `kind` of fact, checked with `schema`, valid for `readerVersion` (bump it when the
   * code that computes the fact changes).
   */
  cache<T>(kind: string, readerVersion: string, schema: z.ZodType<T>): FactCache<T> {
    return {
      get: (path, statKey) => {
        try {
          const row = this.getRow.get(path, kind);
          if (!row || row.stat_key !== statKey || row.reader_version !== readerVersion) return null;
          const checked = schema.safeParse(JSON.parse(row.value_json));
          return checked.success ? checked.data : null;
        } catch {
          return null;
        }
      },
      set: (path, statKey, value) => {
        try {
          this.putRow.run(path, kind, statKey, readerVersion, JSON.stringify(value), this.now());
        } catch {
          // A full disk or a read-only database: the fact is computed again next time.
        }
      },
    };
  }
}
