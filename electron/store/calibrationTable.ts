/**
 * The calibration bench's results in SQLite (table `model_calibrations`, migration 006): one result per
 * model file (its identity key, electron/models/fileIdentity.ts) and machine, the latest run.
 *
 * Part of the {@link import('./store.js').Store} (`store.calibrations`); it shares the store's
 * connection, machine key, clock and error mapping.
 */
import type Database from 'better-sqlite3';
import { calibrationResultSchema, type CalibrationResult } from '../../shared/contract.js';
import { toCsv, type CsvCell } from './csv.js';

/** The columns of {@link CalibrationTable.exportCsv}, in order (units in the names). */
export const calibrationCsvColumns = [
  'model_path',
  'file_name',
  'model_name',
  'quantization',
  'size_bytes',
  'parameter_count',
  'bits_per_byte',
  'scored_tokens',
  'scored_bytes',
  'bits_per_byte_tokens_per_second',
  'load_ms',
  'threads',
  'prefill_tokens',
  'prefill_tokens_per_second',
  'decode_tokens',
  'decode_tokens_per_second',
  'sustained_duration_ms',
  'sustained_first_quarter_tokens_per_second',
  'sustained_last_quarter_tokens_per_second',
  'sustained_slowdown',
  'energy_j_per_token',
  'avg_power_w',
  'energy_source',
  'energy_measured',
  'peak_rss_bytes',
  'baseline_rss_bytes',
  'quick',
  'text_id',
  'file_key',
  'measured_at',
] as const;

interface Row {
  file_key: string;
  model_path: string;
  text_id: string;
  result_json: string;
  measured_at: number;
}

/** Results of one machine, keyed by file identity. */
export class CalibrationTable {
  private readonly upsert: Database.Statement<[string, string, string, string, string, number]>;
  private readonly byKey: Database.Statement<[string, string], Row>;
  private readonly all: Database.Statement<[string], Row>;
  private readonly remove: Database.Statement<[string, string]>;

  /**
   * @param wrap runs a statement, mapping SQLite failures to the store's errors (StoreError).
   */
  constructor(
    db: Database.Database,
    private readonly machineKey: string,
    private readonly wrap: <T>(fn: () => T) => T,
  ) {
    this.upsert = db.prepare(`
      INSERT INTO model_calibrations (machine_key, file_key, model_path, text_id, result_json, measured_at)
      VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (machine_key, file_key) DO UPDATE SET
        model_path = excluded.model_path, text_id = excluded.text_id,
        result_json = excluded.result_json, measured_at = excluded.measured_at`);
    this.byKey = db.prepare(`SELECT file_key, model_path, text_id, result_json, measured_at FROM model_calibrations WHERE machine_key = ? AND file_key = ?`);
    this.all = db.prepare(`SELECT file_key, model_path, text_id, result_json, measured_at FROM model_calibrations WHERE machine_key = ? ORDER BY measured_at DESC, file_key`);
    this.remove = db.prepare(`DELETE FROM model_calibrations WHERE machine_key = ? AND file_key = ?`);
  }

  /**
   * Stores `result` as this machine's latest for its `fileKey` (replacing the previous one).
   * @throws ZodError when `result` breaks the contract's schema (nothing is written); StoreError.
   */
  save(result: CalibrationResult): void {
    const checked = calibrationResultSchema.parse(result);
    const json = JSON.stringify(checked);
    this.wrap(() => this.upsert.run(this.machineKey, checked.fileKey, checked.modelPath, checked.textId, json, checked.measuredAt));
  }

  /**
   * This machine's result for a file key, or null (none, or a stored row that no longer parses).
   * `modelPath` in the result is where the file was measured; callers reading it for a renamed or copied
   * file replace it with the current path.
   */
  get(fileKey: string): CalibrationResult | null {
    const row = this.wrap(() => this.byKey.get(this.machineKey, fileKey));
    return row === undefined ? null : parse(row);
  }

  /** Every result of this machine, newest first (rows that no longer parse are skipped). */
  list(): CalibrationResult[] {
    return this.wrap(() => this.all.all(this.machineKey)).flatMap((row) => {
      const r = parse(row);
      return r ? [r] : [];
    });
  }

  /** Forgets the result of one file key. @returns whether there was one. */
  delete(fileKey: string): boolean {
    return this.wrap(() => this.remove.run(this.machineKey, fileKey)).changes > 0;
  }

  /**
   * `results` as CSV (electron/store/csv.ts: RFC 4180, formula-injection guard), columns
   * {@link calibrationCsvColumns}, a header row first; `measured_at` as ISO 8601 UTC.
   */
  static toCsv(results: readonly CalibrationResult[]): string {
    return toCsv(
      calibrationCsvColumns,
      results.map((r): CsvCell[] => [
        r.modelPath, r.fileName, r.modelName, r.quantization, r.sizeBytes, r.parameterCount, r.bitsPerByte, r.scoredTokens,
        r.scoredBytes, r.bitsPerByteTokensPerSecond, r.loadMs, r.threads, r.prefillTokens, r.prefillTokensPerSecond,
        r.decodeTokens, r.decodeTokensPerSecond, r.sustainedDurationMs, r.sustainedFirstQuarterTokensPerSecond,
        r.sustainedLastQuarterTokensPerSecond, r.sustainedSlowdown, r.energyJPerToken, r.avgPowerW, r.energySource,
        r.energyMeasured, r.peakRssBytes, r.baselineRssBytes, r.quick, r.textId, r.fileKey, new Date(r.measuredAt).toISOString(),
      ]),
    );
  }
}

function parse(row: Row): CalibrationResult | null {
  let json: unknown;
  try {
    json = JSON.parse(row.result_json);
  } catch {
    return null;
  }
  const checked = calibrationResultSchema.safeParse(json);
  return checked.success ? checked.data : null;
}
