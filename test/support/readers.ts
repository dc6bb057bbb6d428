/**
 * Independent readers: what a user would see when opening the files.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mammoth from 'mammoth';

const run = promisify(execFile);

/** The PDF's text as poppler's pdftotext reads it (layout-free, reading order). */
export async function pdfText(bytes: Uint8Array): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sigillo-pdf-'));
  try {
    const file = path.join(dir, 'document.pdf');
    await writeFile(file, bytes);
    const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', file, '-']);
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ListedImage {
  page: number;
  width: number;
  height: number;
  encoding: string;
  /** The PDF object holding the image: the same number on every page means one embedding. */
  object: number;
  xPpi: number;
}

/** `pdfimages -list`: page, pixel size, encoding, object and resolution of each image drawn. */
export async function pdfImages(bytes: Uint8Array): Promise<ListedImage[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sigillo-images-'));
  try {
    const file = path.join(dir, 'document.pdf');
    await writeFile(file, bytes);
    const { stdout } = await run('pdfimages', ['-list', file]);
    return stdout
      .split('\n')
      .slice(2)
      .filter(Boolean)
      .map((row) => {
        const cells = row.trim().split(/\s+/);
        return {
          page: Number(cells[0]),
          width: Number(cells[3]),
          height: Number(cells[4]),
          encoding: cells[8] ?? '',
          object: Number(cells[10]),
          xPpi: Number(cells[12]),
        };
      });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** qpdf's structural check; throws with qpdf's output when the file is damaged. */
export async function qpdfCheck(bytes: Uint8Array): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sigillo-qpdf-'));
  try {
    const file = path.join(dir, 'document.pdf');
    await writeFile(file, bytes);
    const { stdout } = await run('qpdf', ['--check', file]);
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function docxText(bytes: Buffer): Promise<string> {
  const result = await mammoth.extractRawText({ buffer: bytes });
  return result.value;
}

/** Collapses whitespace so that phrases wrapped across lines still match. */
export function normalise(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Asserts that each phrase occurs, in this order, and returns the first one missing. */
export function firstMissingInOrder(text: string, phrases: string[]): string | undefined {
  const flat = normalise(text);
  let from = 0;
  for (const phrase of phrases) {
    const at = flat.indexOf(normalise(phrase), from);
    if (at < 0) return phrase;
    from = at + normalise(phrase).length;
  }
  return undefined;
}

/** Converts a DOCX with LibreOffice headless, as a user opening it would; returns the PDF. */
export async function libreOfficeToPdf(docx: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sigillo-lo-'));
  try {
    const file = path.join(dir, 'document.docx');
    await writeFile(file, docx);
    await run(
      'soffice',
      [
        `-env:UserInstallation=file://${dir}/profile`,
        '--headless',
        '--convert-to',
        'pdf',
        '--outdir',
        dir,
        file,
      ],
      { timeout: 120_000 },
    );
    const { readFile } = await import('node:fs/promises');
    return await readFile(path.join(dir, 'document.pdf'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
