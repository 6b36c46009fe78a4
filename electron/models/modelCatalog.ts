/**
 * The curated catalog of downloadable models the app ships (resources/catalog/models.json, schema in
 * shared/modelCatalog.ts), read and checked once.
 */
import { readFileSync } from 'node:fs';
import { catalogSchema, type ModelCatalog } from '../../shared/modelCatalog.js';
import { resourcePath } from '../core/resources.js';

let cached: ModelCatalog | null = null;

/**
 * The catalog, parsed and checked against `catalogSchema` (read once per process).
 * @throws Error naming the file and the first schema problem when the shipped file is broken.
 */
export function loadModelCatalog(): ModelCatalog {
  if (cached) return cached;
  const path = resourcePath('catalog/models.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the model catalog ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const checked = catalogSchema.safeParse(json);
  if (!checked.success) throw new Error(`the model catalog ${path} is invalid: ${checked.error.issues[0]?.path.join('.')}: ${checked.error.issues[0]?.message}`);
  cached = checked.data;
  return cached;
}
