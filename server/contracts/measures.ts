/**
 * The catalogue of technical and organisational measures (art. 32 GDPR; AgID
 * Misure minime ICT) procurement picks from for a contract's Allegato II.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRepoRoot } from '../platform/local-servers.js';

export interface CatalogueMeasure {
  code: string;
  area: string;
  description: string;
}

const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
let catalogue: Promise<CatalogueMeasure[]> | undefined;

export function measureCatalogue(): Promise<CatalogueMeasure[]> {
  catalogue ??= readFile(path.join(repoRoot, 'data', 'misure', 'catalogo.json'), 'utf8').then(
    (text) => JSON.parse(text) as CatalogueMeasure[],
  );
  return catalogue;
}
