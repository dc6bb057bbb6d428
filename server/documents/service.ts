import mongoose, { type Types } from 'mongoose';
import type { Principal } from '../platform/auth.js';
import { HttpProblem } from '../platform/http-problem.js';
import type { ObjectStorage, StoredObject } from '../platform/storage.js';
import { Organisation } from '../organisations/model.js';
import { regolamentoContext } from '../regulations/service.js';
import { findTemplate, validateTemplateInput } from '../templates/service.js';
import type { TemplateVersionDocument } from '../templates/model.js';
import { isDuplicateKey } from '../people/fields.js';
import { GeneratedDocument } from './model.js';
import { loadLogo } from './logo.js';
import {
  readableFileName,
  renderDocument,
  type LogoSource,
  type TemplateContext,
} from './pipeline.js';
import type { ModelRenderer } from './render-pool.js';

const contentTypes = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
} as const;

/** What a document takes from its ente besides the input: the template context and the logo. */
export interface OrganisationSources {
  context: TemplateContext;
  logo: LogoSource;
}

export async function templateContextFor(
  organisationId: Types.ObjectId,
  storage: ObjectStorage,
): Promise<OrganisationSources> {
  const organisation = await Organisation.findById(organisationId);
  if (!organisation) throw HttpProblem.notFound('Ente non trovato');
  // The ente's own regolamento, when it has chosen one, feeds citations and task lists.
  const regolamentoKey = organisation.regolamentoKey;
  const regolamentoEnte = regolamentoKey ? await regolamentoContext(regolamentoKey) : undefined;
  const storedLogo = organisation.logo;
  return {
    context: {
      ente: { nome: organisation.name, tipo: organisation.kind },
      ...(regolamentoEnte ? { regolamentoEnte } : {}),
    },
    // Kept out of the template context: templates place the logo, they never read it.
    logo: () => (storedLogo ? loadLogo(storedLogo, storage) : Promise.resolve(undefined)),
  };
}

/**
 * Renders, stores and records a document. The record is written last: a failure
 * before it leaves no record, and the objects already stored are removed.
 */
export async function generateDocument(input: {
  templateKey: string;
  version?: number;
  data: Record<string, unknown>;
  /** Who generates it: a user, or the user who started the job generating it. */
  principal: Pick<Principal, 'organisationId' | 'userId' | 'name'>;
  storage: ObjectStorage;
  render: ModelRenderer;
  /**
   * A numbered act passes an id derived from its number: generating it again
   * (a retry after a crash) then finds the record instead of making a second one.
   */
  documentId?: Types.ObjectId;
  /** The caller knows no document with `documentId` exists yet. */
  documentIsNew?: boolean;
  registration?: { registerKey: string; year: number; number: number };
  /** Callers generating many documents load these once. */
  template?: TemplateVersionDocument;
  /** Hands the stored bytes to a caller that assembles them further (a bulk's ZIP and PDF). */
  onStored?: (files: { pdf: Uint8Array; docx: Uint8Array }) => void;
  sources?: OrganisationSources;
}) {
  if (input.documentId && !input.documentIsNew) {
    const existing = await GeneratedDocument.findById(input.documentId);
    if (existing) return existing;
  }
  const template = input.template ?? (await findTemplate(input.templateKey, input.version));
  validateTemplateInput(template, input.data);
  const { context, logo } =
    input.sources ?? (await templateContextFor(input.principal.organisationId, input.storage));
  const rendered = await renderDocument(template, input.data, context, input.render, logo);
  const documentId = input.documentId ?? new mongoose.Types.ObjectId();
  const prefix = `organisations/${input.principal.organisationId.toString()}/documents/${documentId.toString()}`;
  const title = rendered.model.metadata.title;
  const stored: StoredObject[] = [];
  try {
    const puts = await Promise.allSettled([
      input.storage.put(`${prefix}/documento.pdf`, rendered.pdf.bytes, contentTypes.pdf),
      input.storage.put(`${prefix}/documento.docx`, rendered.docx, contentTypes.docx),
    ]);
    for (const put of puts) if (put.status === 'fulfilled') stored.push(put.value);
    const failedPut = puts.find((put) => put.status === 'rejected');
    if (failedPut) throw failedPut.reason;
    const [pdf, docx] = stored as [StoredObject, StoredObject];
    const record = await GeneratedDocument.create({
      _id: documentId,
      title,
      documentType: template.documentType,
      template: { id: template._id, key: template.key, version: template.version },
      input: JSON.stringify(input.data),
      pdf: { ...pdf, versionId: pdf.versionId ?? null, fileName: readableFileName(title, 'pdf') },
      docx: {
        ...docx,
        versionId: docx.versionId ?? null,
        fileName: readableFileName(title, 'docx'),
      },
      pageCount: rendered.pdf.pageCount,
      signatureAreas: rendered.pdf.signatureAreas,
      author: { userId: input.principal.userId, name: input.principal.name },
      registration: input.registration ?? null,
    });
    input.onStored?.({ pdf: rendered.pdf.bytes, docx: rendered.docx });
    return record;
  } catch (error) {
    // A concurrent attempt at the same act wrote the same keys: only this
    // attempt's own object versions may go, and without versioning none.
    const raced = input.documentId !== undefined && isDuplicateKey(error);
    await Promise.all(
      stored
        .filter((object) => !raced || object.versionId)
        .map((object) => input.storage.delete(object.key, object.versionId).catch(() => undefined)),
    );
    if (raced) {
      // A concurrent retry recorded the same act first, with the same bytes.
      const recorded = await GeneratedDocument.findById(input.documentId);
      if (recorded) return recorded;
    }
    throw error;
  }
}

export async function findDocument(documentId: string) {
  const document = await GeneratedDocument.findById(documentId);
  if (!document) throw HttpProblem.notFound(`Documento ${documentId} non trovato`);
  return document;
}

export { contentTypes };
