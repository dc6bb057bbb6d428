/**
 * The ente's logo as the renderers need it: bytes, type and pixel size. Read
 * from object storage, checked against the SHA-256 the Organisation record
 * kept, and kept in a small per-process cache keyed by that hash, so documents
 * of the same ente do not fetch and decode the same image again.
 */
import { PDFDocument } from 'pdf-lib';
import { HttpProblem } from '../platform/http-problem.js';
import { IntegrityError, type ObjectStorage } from '../platform/storage.js';
import type { ImageData } from './document-model.js';

/** What the Organisation record keeps of its logo. */
export interface StoredLogo {
  key: string;
  sha256: string;
  contentType: string;
  versionId?: string | null;
}

/** Logos are at most 512 KB; a few dozen enti's logos are a few MB at worst. */
const CACHE_LIMIT = 32;
const cache = new Map<string, Promise<ImageData>>();

/**
 * Pixel size by pdf-lib, which the PDF renderer embeds the image with anyway: an image it
 * cannot read is refused here, with a message for the user, rather than deep in a render.
 */
async function imageData(bytes: Uint8Array, contentType: ImageData['contentType']) {
  try {
    const doc = await PDFDocument.create();
    const image =
      contentType === 'image/png' ? await doc.embedPng(bytes) : await doc.embedJpg(bytes);
    return { bytes, contentType, widthPx: image.width, heightPx: image.height };
  } catch {
    throw new HttpProblem(
      422,
      'Logo non leggibile',
      "Il logo dell'ente non è un'immagine PNG o JPEG leggibile: caricarne un altro",
    );
  }
}

async function fetchLogo(logo: StoredLogo, storage: ObjectStorage): Promise<ImageData> {
  if (logo.contentType !== 'image/png' && logo.contentType !== 'image/jpeg') {
    throw new HttpProblem(
      422,
      'Logo non leggibile',
      `Tipo di logo non supportato: ${logo.contentType}`,
    );
  }
  let body: Buffer;
  try {
    ({ body } = await storage.get(logo.key, {
      expectedSha256: logo.sha256,
      ...(logo.versionId ? { versionId: logo.versionId } : {}),
    }));
  } catch (error) {
    if (error instanceof IntegrityError) {
      throw new HttpProblem(
        500,
        'Logo alterato',
        'Il file conservato non corrisponde più al suo SHA-256: caricare di nuovo il logo',
      );
    }
    throw error;
  }
  // A plain Uint8Array of its own: it is structured-cloned to the render workers.
  return imageData(new Uint8Array(body), logo.contentType);
}

/** The logo's image, from the cache when the same bytes (same SHA-256) were read before. */
export function loadLogo(logo: StoredLogo, storage: ObjectStorage): Promise<ImageData> {
  const cached = cache.get(logo.sha256);
  if (cached) {
    // Re-inserted so that the map's order is least recently used first.
    cache.delete(logo.sha256);
    cache.set(logo.sha256, cached);
    return cached;
  }
  const loading = fetchLogo(logo, storage);
  cache.set(logo.sha256, loading);
  // A failed read is not remembered: the next document tries again.
  loading.catch(() => cache.delete(logo.sha256));
  while (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return loading;
}
