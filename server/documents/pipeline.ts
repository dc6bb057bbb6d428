/**
 * The one path every document takes: template + data → markup → document model
 * → DOCX and PDF. A new document type is a template and a schema, never code here.
 */
import { HttpProblem } from '../platform/http-problem.js';
import type { RegolamentoContext } from '../regulations/service.js';
import type { TemplateVersionDocument } from '../templates/model.js';
import type { DocumentModel, ImageData } from './document-model.js';
import { MarkupError, parseMarkup } from './markup.js';
import type { RenderedFiles } from './render-both.js';
import type { ModelRenderer } from './render-pool.js';
import { renderTemplate, TemplateError } from './template-engine.js';

export interface TemplateContext {
  /** The ente the document is issued by. */
  ente: { nome: string; tipo: string };
  regolamentoEnte?: RegolamentoContext;
}

/**
 * The ente's logo image, asked for only when the template places a <logo/>;
 * undefined when the ente has no logo, and the document goes without.
 */
export type LogoSource = () => Promise<ImageData | undefined>;

export interface RenderedDocument extends RenderedFiles {
  model: DocumentModel;
}

/** Template and data to the document model; template faults become 422 problems. */
export function buildDocumentModel(
  template: Pick<TemplateVersionDocument, 'key' | 'version' | 'source'>,
  data: Record<string, unknown>,
  context: TemplateContext,
): DocumentModel {
  try {
    const markup = renderTemplate(template.source, { ...data, ...context });
    return parseMarkup(markup);
  } catch (error) {
    if (error instanceof TemplateError || error instanceof MarkupError) {
      throw new HttpProblem(
        422,
        'Il modello non ha prodotto un documento valido',
        `Modello ${template.key} versione ${template.version}: ${error.message}`,
      );
    }
    throw error;
  }
}

/** Fills in the logo image a template's <logo/> asks for; the model is changed in place. */
export async function attachLogo(model: DocumentModel, logo: LogoSource): Promise<DocumentModel> {
  if (!model.headerLogo) return model;
  const image = await logo();
  if (image) model.headerLogo.image = image;
  return model;
}

export async function renderDocument(
  template: Pick<TemplateVersionDocument, 'key' | 'version' | 'source'>,
  data: Record<string, unknown>,
  context: TemplateContext,
  render: ModelRenderer,
  logo: LogoSource = () => Promise.resolve(undefined),
): Promise<RenderedDocument> {
  const model = await attachLogo(buildDocumentModel(template, data, context), logo);
  return { model, ...(await render(model)) };
}

/** A file name Italian users can read, safe on every file system. */
export function readableFileName(title: string, extension: 'pdf' | 'docx'): string {
  const cleaned = title
    .replace(/[\\/:*?"<>|\p{Cc}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 150);
  return `${cleaned || 'documento'}.${extension}`;
}
