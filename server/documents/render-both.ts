import type { DocumentModel } from './document-model.js';
import { renderDocx } from './render-docx.js';
import { renderPdf, type RenderedPdf } from './render-pdf.js';

export interface RenderedFiles {
  docx: Uint8Array;
  pdf: RenderedPdf;
}

export async function renderBoth(model: DocumentModel): Promise<RenderedFiles> {
  const [docx, pdf] = await Promise.all([renderDocx(model), renderPdf(model)]);
  return { docx, pdf };
}
