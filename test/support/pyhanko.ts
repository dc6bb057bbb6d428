/**
 * pyHanko, an independent PAdES implementation, as the judge of the PDFs
 * Sigillo signs: runs test/support/pyhanko_validate.py (offline validation)
 * and returns its per-signature reports.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./pyhanko_validate.py', import.meta.url));

export interface PyHankoReport {
  fieldName: string;
  intact: boolean;
  valid: boolean;
  trusted: boolean;
  /** SignatureCoverageLevel: ENTIRE_FILE, ENTIRE_REVISION, CONTIGUOUS_BLOCK_FROM_START, UNCLEAR. */
  coverage?: string | null;
  /** ModificationLevel of what came after: NONE, LTA_UPDATES, FORM_FILLING, ANNOTATIONS, OTHER. */
  modificationLevel?: string | null;
  docmdpOk?: boolean | null;
  /** The /M of the signature dictionary (ISO 8601). */
  signingTime?: string | null;
  timestampPresent?: boolean;
  /** Intact, valid and trusted; null without a time-stamp. */
  timestampValid?: boolean | null;
  timestampTime?: string | null;
  signerSubject?: string;
  trustProblem?: string | null;
  bottomLine: boolean;
  summary?: string;
  /** Set when pyHanko could not validate the signature at all. */
  error?: string;
}

export async function validateWithPyHanko(
  pdf: Uint8Array,
  { trustAnchorFile }: { trustAnchorFile: string | string[] },
): Promise<PyHankoReport[]> {
  const directory = await mkdtemp(path.join(tmpdir(), 'sigillo-pyhanko-'));
  try {
    const file = path.join(directory, 'signed.pdf');
    await writeFile(file, pdf);
    const anchors = Array.isArray(trustAnchorFile) ? trustAnchorFile : [trustAnchorFile];
    const { stdout } = await run(
      'python3',
      [SCRIPT, ...anchors.flatMap((anchor) => ['--trust', anchor]), file],
      { maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: unknown) => {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`pyHanko validation failed: ${stderr.trim() || String(error)}`, {
        cause: error,
      });
    });
    return JSON.parse(stdout) as PyHankoReport[];
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
