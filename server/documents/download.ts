import type { Response } from 'express';
import { HttpProblem } from '../platform/http-problem.js';
import { IntegrityError, type ObjectStorage } from '../platform/storage.js';

export interface DownloadableFile {
  key: string;
  sha256: string;
  contentType: string;
  fileName: string;
  versionId?: string | null | undefined;
}

/** Sends a stored file as an attachment after checking it against the SHA-256 its record kept. */
export async function sendStoredFile(
  response: Response,
  storage: ObjectStorage,
  file: DownloadableFile,
): Promise<void> {
  const versionId = file.versionId ?? undefined;
  try {
    const { body } = await storage.get(file.key, {
      expectedSha256: file.sha256,
      ...(versionId ? { versionId } : {}),
    });
    sendBytes(response, body, file);
  } catch (error) {
    if (error instanceof IntegrityError) {
      throw new HttpProblem(
        500,
        'Documento alterato',
        'Il file conservato non corrisponde più al suo SHA-256: è stato segnalato agli amministratori',
      );
    }
    throw error;
  }
}

/** Sends bytes already read and checked, with the name and hash of their record. */
export function sendBytes(
  response: Response,
  body: Uint8Array,
  file: Pick<DownloadableFile, 'sha256' | 'contentType' | 'fileName'>,
): void {
  response
    .status(200)
    .type(file.contentType)
    .setHeader(
      'Content-Disposition',
      `attachment; filename="${file.fileName.replace(/[^\x20-\x7e]/g, '_').replace(/"/g, "'")}"; filename*=UTF-8''${encodeURIComponent(file.fileName)}`,
    )
    .setHeader('X-Content-SHA256', file.sha256)
    .send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
}
