/**
 * PAdES signatures (ETSI.CAdES.detached) appended to a PDF as an incremental
 * update: the bytes already there are never rewritten, so every earlier
 * signature keeps covering exactly what its signer saw.
 *
 * pdf-lib parses the document once (to find the catalog, the form, the page
 * and any field of that name) and serialises the few objects that change;
 * the update itself — objects, cross-reference section, trailer — is written
 * here, because pdf-lib can only save a document by rewriting all of it.
 * @signpdf/signpdf then fills in /ByteRange and /Contents.
 */
import { createHash } from 'node:crypto';
import { SignPdf, Signer } from '@signpdf/signpdf';
import { SignPdfError } from '@signpdf/utils';
import {
  EncryptedPDFError,
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFObjectParser,
  PDFRawStream,
  PDFRef,
  PDFString,
  ParseSpeeds,
  StandardFontEmbedder,
  StandardFonts,
  type PDFContext,
  type PDFObject,
} from 'pdf-lib';
import {
  cadesSignatureSizeBound,
  certificateCommonName,
  createCadesDetachedSignature,
  sha256,
} from './cms.js';
import type { KeySigner } from './signer.js';
import type { TimestampAuthority } from './tsa.js';

export interface SignatureAppearance {
  /** 0-based page index. */
  page: number;
  /** Bottom-left corner and size in PDF points, as `SignatureArea` records them. */
  x: number;
  y: number;
  width: number;
  height: number;
  name: string;
  role: string;
}

export interface SignPdfOptions {
  signer: KeySigner;
  fieldName: string;
  signingTime: Date;
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Without it the signature is invisible (a zero-size widget on the first page). */
  appearance?: SignatureAppearance;
  /** With it the signature is PAdES B-T instead of B-B. */
  timestampAuthority?: TimestampAuthority;
}

export type PdfSigningFailure =
  | 'invalid-field-name'
  | 'field-already-signed'
  | 'field-not-a-signature'
  | 'invalid-appearance'
  | 'certified-no-changes'
  | 'encrypted'
  | 'malformed-pdf'
  | 'signer-without-certificate'
  | 'signature-too-large';

export class PdfSigningError extends Error {
  override name = 'PdfSigningError';
  constructor(
    readonly reason: PdfSigningFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Room kept in /Contents for the signature time-stamp token, whose size is
 * known only once the TSA answers: a few KiB, more the more certificates the
 * TSA puts in it.
 */
const TIMESTAMP_TOKEN_RESERVE = 12 * 1024;
/** What @signpdf/utils looks for (DEFAULT_BYTE_RANGE_PLACEHOLDER) to place the real ranges. */
const BYTE_RANGE_PLACEHOLDER = '/ByteRange [0 /********** /********** /**********]';
/** Print + Locked: the widget prints and cannot be moved or deleted in a viewer. */
const WIDGET_FLAGS = 4 | 128;
const SIG_FLAGS_SIGNATURES_EXIST_APPEND_ONLY = 3;

/** Signs `pdf` and returns it with one more revision: the signature. */
export async function signPdf(pdf: Uint8Array, options: SignPdfOptions): Promise<Uint8Array> {
  const { signer, fieldName, appearance } = options;
  checkFieldName(fieldName);
  if (appearance) checkAppearance(appearance);

  const document = await loadDocument(pdf);
  const certificates = await signer.certificates();
  if (!certificates[0]) {
    throw new PdfSigningError(
      'signer-without-certificate',
      `Key "${signer.id}" has no certificate to sign with`,
    );
  }
  const contentsCapacity =
    cadesSignatureSizeBound(certificates) +
    (options.timestampAuthority ? TIMESTAMP_TOKEN_RESERVE : 0);

  const update = buildIncrementalUpdate(document, {
    ...options,
    contentsCapacity,
    signerName: appearance?.name ?? certificateCommonName(certificates[0]) ?? '',
  });
  const prepared = Buffer.concat([pdf, update]);

  const cades = new CadesContentsSigner(contentsCapacity, async (signedContent) =>
    createCadesDetachedSignature({
      signer,
      certificates,
      contentDigest: sha256(signedContent),
      ...(options.timestampAuthority ? { timestampAuthority: options.timestampAuthority } : {}),
    }),
  );
  try {
    return await new SignPdf().sign(prepared, cades);
  } catch (error) {
    if (error instanceof SignPdfError) {
      throw new PdfSigningError('malformed-pdf', `Cannot place the signature: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * The bridge to @signpdf/signpdf, which finds our ByteRange placeholder (the
 * only one left in the file: earlier signatures carry real numbers), hands
 * over the bytes it covers and writes the CMS, hex-encoded, into /Contents.
 */
class CadesContentsSigner extends Signer {
  constructor(
    private readonly capacity: number,
    private readonly createSignature: (signedContent: Buffer) => Promise<Uint8Array>,
  ) {
    super();
  }

  override async sign(signedContent: Buffer): Promise<Buffer> {
    const signature = await this.createSignature(signedContent);
    if (signature.length > this.capacity) {
      throw new PdfSigningError(
        'signature-too-large',
        `The CMS signature takes ${signature.length} bytes but only ${this.capacity} were reserved in /Contents (a time-stamp token or certificate chain larger than expected)`,
      );
    }
    return Buffer.from(signature.buffer, signature.byteOffset, signature.length);
  }
}

interface LoadedDocument {
  bytes: Uint8Array;
  context: PDFContext;
  /** Offset of the last cross-reference section (the new one's /Prev). */
  lastXrefOffset: number;
  lastXrefIsStream: boolean;
  trailer: PDFDict;
}

async function loadDocument(pdf: Uint8Array): Promise<LoadedDocument> {
  let document: PDFDocument;
  try {
    document = await PDFDocument.load(pdf, {
      updateMetadata: false,
      // The default yields to the event loop every 100 objects, for nothing here.
      parseSpeed: ParseSpeeds.Fastest,
    });
  } catch (error) {
    if (error instanceof EncryptedPDFError) {
      throw new PdfSigningError('encrypted', 'Encrypted PDFs cannot be signed here', {
        cause: error,
      });
    }
    throw new PdfSigningError('malformed-pdf', `The PDF cannot be read: ${describe(error)}`, {
      cause: error,
    });
  }
  const { context } = document;
  const { offset, isStream } = lastCrossReference(pdf);
  const trailer = readTrailer(pdf, context, offset, isStream);
  return { bytes: pdf, context, lastXrefOffset: offset, lastXrefIsStream: isStream, trailer };
}

function lastCrossReference(pdf: Uint8Array): { offset: number; isStream: boolean } {
  const tail = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.length);
  const keyword = tail.lastIndexOf('startxref');
  const match =
    keyword === -1 ? null : /^startxref\s+(\d+)/.exec(latin1(pdf, keyword, keyword + 40));
  if (!match) throw new PdfSigningError('malformed-pdf', 'The PDF has no startxref');
  const offset = Number(match[1]);
  const section = latin1(pdf, offset, offset + 32);
  if (/^\s*xref/.test(section)) return { offset, isStream: false };
  if (/^\s*\d+\s+\d+\s+obj/.test(section)) return { offset, isStream: true };
  throw new PdfSigningError(
    'malformed-pdf',
    `startxref points to offset ${offset}, where there is no cross-reference section`,
  );
}

/** The dictionary of the last trailer (or xref stream): /Size, /Root, /Info, /ID. */
function readTrailer(
  pdf: Uint8Array,
  context: PDFContext,
  offset: number,
  isStream: boolean,
): PDFDict {
  try {
    if (isStream) {
      const header = /^\s*\d+\s+\d+\s+obj/.exec(latin1(pdf, offset, offset + 32))!;
      const stream = PDFObjectParser.forBytes(
        pdf.subarray(offset + header[0].length),
        context,
      ).parseObject();
      if (stream instanceof PDFRawStream) return stream.dict;
    } else {
      const trailerAt = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.length).indexOf(
        'trailer',
        offset,
      );
      if (trailerAt !== -1) {
        const dict = PDFObjectParser.forBytes(
          pdf.subarray(trailerAt + 'trailer'.length),
          context,
        ).parseObject();
        if (dict instanceof PDFDict) return dict;
      }
    }
  } catch (error) {
    throw new PdfSigningError('malformed-pdf', `The trailer cannot be read: ${describe(error)}`, {
      cause: error,
    });
  }
  throw new PdfSigningError('malformed-pdf', 'The PDF has no readable trailer');
}

interface UpdateOptions extends SignPdfOptions {
  contentsCapacity: number;
  signerName: string;
}

/** Objects of the update, by object number; the signature dictionary is written by hand. */
interface UpdateObjects {
  pdfObjects: Map<number, { ref: PDFRef; object: PDFObject }>;
  signatureRef: PDFRef;
}

function buildIncrementalUpdate(document: LoadedDocument, options: UpdateOptions): Uint8Array {
  const { context, trailer } = document;
  const previousSize = numberIn(trailer, 'Size');
  if (previousSize === undefined) {
    throw new PdfSigningError('malformed-pdf', 'The trailer has no /Size');
  }
  // New objects are numbered after everything the file ever numbered, free entries included.
  context.largestObjectNumber = Math.max(context.largestObjectNumber, previousSize - 1);

  const changed: UpdateObjects = { pdfObjects: new Map(), signatureRef: context.nextRef() };
  const markChanged = (ref: PDFRef) => {
    changed.pdfObjects.set(ref.objectNumber, { ref, object: context.lookup(ref)! });
  };
  const register = (object: PDFObject): PDFRef => {
    const ref = context.register(object);
    changed.pdfObjects.set(ref.objectNumber, { ref, object });
    return ref;
  };

  const rootRef = trailer.get(PDFName.of('Root'));
  const catalog = rootRef instanceof PDFRef ? context.lookupMaybe(rootRef, PDFDict) : undefined;
  if (!(rootRef instanceof PDFRef) || !catalog) {
    throw new PdfSigningError('malformed-pdf', 'The trailer has no document catalog');
  }

  refuseIfCertifiedAgainstChanges(context, catalog);
  const form = acroForm(context, catalog, rootRef, markChanged, register);
  const existing = findField(context, form.fields, options.fieldName);
  const pages = pageTree(context, catalog);

  const { appearance } = options;
  const pageIndex = appearance?.page ?? 0;
  const page = pages.at(pageIndex);
  if (!page) {
    throw new PdfSigningError(
      'invalid-appearance',
      `The document has ${pages.count} page(s): there is no page ${pageIndex + 1} for the signature`,
    );
  }

  const widgetEntries: [string, PDFObject][] = [
    ['Type', PDFName.of('Annot')],
    ['Subtype', PDFName.of('Widget')],
    ['F', PDFNumber.of(WIDGET_FLAGS)],
    ['P', page.ref],
  ];
  if (appearance) {
    const appearanceRef = register(appearanceStream(context, appearance, options.signingTime));
    widgetEntries.push(
      [
        'Rect',
        context.obj([
          appearance.x,
          appearance.y,
          appearance.x + appearance.width,
          appearance.y + appearance.height,
        ]),
      ],
      ['AP', context.obj({ N: appearanceRef })],
    );
  } else if (!existing) {
    widgetEntries.push(['Rect', context.obj([0, 0, 0, 0])]);
  }

  if (existing) {
    existing.field.set(PDFName.of('V'), changed.signatureRef);
    markChanged(existing.ref);
    // A field laid out beforehand keeps its widget where it is unless told otherwise.
    if (appearance) {
      const widget = existing.widget;
      const previousPage = widget.dict.get(PDFName.of('P'));
      for (const [key, value] of widgetEntries) widget.dict.set(PDFName.of(key), value);
      markChanged(widget.ref);
      if (previousPage instanceof PDFRef && previousPage !== page.ref) {
        removeAnnotation(context, previousPage, widget.ref, markChanged);
      }
      addAnnotation(context, page.ref, widget.ref, markChanged);
    }
  } else {
    const field = context.obj({});
    field.set(PDFName.of('FT'), PDFName.of('Sig'));
    field.set(PDFName.of('T'), PDFHexString.fromText(options.fieldName));
    field.set(PDFName.of('V'), changed.signatureRef);
    for (const [key, value] of widgetEntries) field.set(PDFName.of(key), value);
    const fieldRef = register(field);
    form.fields.push(fieldRef);
    markChanged(form.fieldsHolder);
    addAnnotation(context, page.ref, fieldRef, markChanged);
  }

  return serialiseUpdate(document, changed, signatureDictionary(options));
}

function signatureDictionary(options: UpdateOptions): string {
  const entries = [
    '/Type /Sig',
    '/Filter /Adobe.PPKLite',
    '/SubFilter /ETSI.CAdES.detached',
    // @signpdf/signpdf looks for "/Contents " after the placeholder: keep them adjacent.
    BYTE_RANGE_PLACEHOLDER,
    `/Contents <${'0'.repeat(options.contentsCapacity * 2)}>`,
    `/M ${PDFString.fromDate(options.signingTime).toString()}`,
  ];
  const texts: [string, string | undefined][] = [
    ['Name', options.signerName],
    ['Reason', options.reason],
    ['Location', options.location],
    ['ContactInfo', options.contactInfo],
  ];
  for (const [key, value] of texts) {
    // Hex UTF-16 text: accents survive and nothing in it can pass for PDF syntax.
    if (value) entries.push(`/${key} ${PDFHexString.fromText(value).toString()}`);
  }
  return `<<\n${entries.join('\n')}\n>>`;
}

/**
 * A certification signature with DocMDP permission 1 forbids any later change,
 * signatures included: signing anyway would break it.
 */
function refuseIfCertifiedAgainstChanges(context: PDFContext, catalog: PDFDict): void {
  const certification = catalog
    .lookupMaybe(PDFName.of('Perms'), PDFDict)
    ?.lookupMaybe(PDFName.of('DocMDP'), PDFDict);
  const references = certification?.lookupMaybe(PDFName.of('Reference'), PDFArray)?.asArray();
  for (const reference of references ?? []) {
    const dict = context.lookupMaybe(reference, PDFDict);
    if (dict?.get(PDFName.of('TransformMethod')) !== PDFName.of('DocMDP')) continue;
    const permission = dict.lookupMaybe(PDFName.of('TransformParams'), PDFDict);
    if ((permission && numberIn(permission, 'P')) === 1) {
      throw new PdfSigningError(
        'certified-no-changes',
        'The document is certified with no changes allowed (DocMDP P=1): it cannot be signed again',
      );
    }
  }
}

interface Form {
  fields: PDFArray;
  /** The object to rewrite when a field is added: where the /Fields array is written. */
  fieldsHolder: PDFRef;
}

/**
 * The catalog's /AcroForm, created if missing, with /SigFlags 3. Only what
 * actually changes is marked for rewriting: filling a field laid out before
 * leaves the form dictionary alone.
 */
function acroForm(
  context: PDFContext,
  catalog: PDFDict,
  rootRef: PDFRef,
  markChanged: (ref: PDFRef) => void,
  register: (object: PDFObject) => PDFRef,
): Form {
  const entry = catalog.get(PDFName.of('AcroForm'));
  let form: PDFDict;
  let formHolder: PDFRef;
  if (entry instanceof PDFRef) {
    form = context.lookup(entry, PDFDict);
    formHolder = entry;
  } else if (entry instanceof PDFDict) {
    form = entry;
    formHolder = rootRef;
  } else {
    // Its own object, so the next signature changes the form and not the catalog.
    form = context.obj({});
    formHolder = register(form);
    catalog.set(PDFName.of('AcroForm'), formHolder);
    markChanged(rootRef);
  }

  const flags = numberIn(form, 'SigFlags') ?? 0;
  const wantedFlags = flags | SIG_FLAGS_SIGNATURES_EXIST_APPEND_ONLY;
  if (wantedFlags !== flags) {
    form.set(PDFName.of('SigFlags'), PDFNumber.of(wantedFlags));
    markChanged(formHolder);
  }

  const fieldsEntry = form.get(PDFName.of('Fields'));
  if (fieldsEntry instanceof PDFRef) {
    return { fields: context.lookup(fieldsEntry, PDFArray), fieldsHolder: fieldsEntry };
  }
  if (fieldsEntry instanceof PDFArray) return { fields: fieldsEntry, fieldsHolder: formHolder };
  const fields = context.obj([]);
  form.set(PDFName.of('Fields'), fields);
  markChanged(formHolder);
  return { fields, fieldsHolder: formHolder };
}

interface ExistingField {
  ref: PDFRef;
  field: PDFDict;
  widget: { ref: PDFRef; dict: PDFDict };
}

/** Finds the field whose fully qualified name is `name`; refuses one already signed. */
function findField(context: PDFContext, fields: PDFArray, name: string): ExistingField | undefined {
  const visited = new Set<PDFRef>();
  const search = (kids: PDFArray, prefix: string): ExistingField | undefined => {
    for (const kid of kids.asArray()) {
      if (!(kid instanceof PDFRef) || visited.has(kid)) continue;
      visited.add(kid);
      const dict = context.lookupMaybe(kid, PDFDict);
      const partialName = dict && textIn(dict, 'T');
      if (!dict || partialName === undefined) continue; // a widget, not a field
      const fullName = prefix ? `${prefix}.${partialName}` : partialName;
      const children = dict.lookupMaybe(PDFName.of('Kids'), PDFArray);
      if (fullName === name) return existingSignatureField(context, kid, dict, name);
      if (children && name.startsWith(`${fullName}.`)) {
        const found = search(children, fullName);
        if (found) return found;
      }
    }
    return undefined;
  };
  return search(fields, '');
}

function existingSignatureField(
  context: PDFContext,
  ref: PDFRef,
  field: PDFDict,
  name: string,
): ExistingField {
  if (inheritedFieldType(field) !== 'Sig') {
    throw new PdfSigningError(
      'field-not-a-signature',
      `The document already has a field "${name}" that is not a signature field`,
    );
  }
  const value = field.get(PDFName.of('V'));
  if (value !== undefined && value.toString() !== 'null') {
    throw new PdfSigningError(
      'field-already-signed',
      `The signature field "${name}" is already signed: a field is signed only once`,
    );
  }
  if (field.get(PDFName.of('Subtype')) === PDFName.of('Widget')) {
    return { ref, field, widget: { ref, dict: field } };
  }
  const kids = field.lookupMaybe(PDFName.of('Kids'), PDFArray)?.asArray() ?? [];
  for (const kid of kids) {
    const dict = kid instanceof PDFRef ? context.lookupMaybe(kid, PDFDict) : undefined;
    if (kid instanceof PDFRef && dict && textIn(dict, 'T') === undefined) {
      return { ref, field, widget: { ref: kid, dict } };
    }
  }
  throw new PdfSigningError(
    'malformed-pdf',
    `The signature field "${name}" has no widget annotation to sign into`,
  );
}

function inheritedFieldType(field: PDFDict): string | undefined {
  let node: PDFDict | undefined = field;
  for (let depth = 0; node && depth < 32; depth++) {
    const type = node.lookupMaybe(PDFName.of('FT'), PDFName);
    if (type) return type.decodeText();
    node = node.lookupMaybe(PDFName.of('Parent'), PDFDict);
  }
  return undefined;
}

interface PageTree {
  count: number;
  at(index: number): { ref: PDFRef; dict: PDFDict } | undefined;
}

/** Walks /Pages by /Count, down to the one leaf asked for. */
function pageTree(context: PDFContext, catalog: PDFDict): PageTree {
  const root = catalog.lookupMaybe(PDFName.of('Pages'), PDFDict);
  if (!root) throw new PdfSigningError('malformed-pdf', 'The catalog has no page tree');
  const count = numberIn(root, 'Count') ?? 0;
  return {
    count,
    at(index) {
      if (!Number.isInteger(index) || index < 0 || index >= count) return undefined;
      let node = root;
      let remaining = index;
      for (let depth = 0; depth < 64; depth++) {
        const kids = node.lookupMaybe(PDFName.of('Kids'), PDFArray)?.asArray() ?? [];
        let next: PDFDict | undefined;
        for (const kid of kids) {
          const dict = kid instanceof PDFRef ? context.lookupMaybe(kid, PDFDict) : undefined;
          if (!(kid instanceof PDFRef) || !dict) continue;
          if (dict.has(PDFName.of('Kids'))) {
            const kidCount = numberIn(dict, 'Count') ?? 0;
            if (remaining < kidCount) {
              next = dict;
              break;
            }
            remaining -= kidCount;
          } else {
            if (remaining === 0) return { ref: kid, dict };
            remaining -= 1;
          }
        }
        if (!next) return undefined;
        node = next;
      }
      return undefined;
    },
  };
}

function addAnnotation(
  context: PDFContext,
  pageRef: PDFRef,
  annotationRef: PDFRef,
  markChanged: (ref: PDFRef) => void,
): void {
  const page = context.lookup(pageRef, PDFDict);
  const entry = page.get(PDFName.of('Annots'));
  if (entry instanceof PDFRef) {
    const annots = context.lookup(entry, PDFArray);
    if (annots.indexOf(annotationRef) !== undefined) return;
    annots.push(annotationRef);
    markChanged(entry);
  } else if (entry instanceof PDFArray) {
    if (entry.indexOf(annotationRef) !== undefined) return;
    entry.push(annotationRef);
    markChanged(pageRef);
  } else {
    page.set(PDFName.of('Annots'), context.obj([annotationRef]));
    markChanged(pageRef);
  }
}

function removeAnnotation(
  context: PDFContext,
  pageRef: PDFRef,
  annotationRef: PDFRef,
  markChanged: (ref: PDFRef) => void,
): void {
  const page = context.lookupMaybe(pageRef, PDFDict);
  const entry = page?.get(PDFName.of('Annots'));
  const annots = entry instanceof PDFRef ? context.lookupMaybe(entry, PDFArray) : entry;
  if (!(annots instanceof PDFArray)) return;
  const index = annots.indexOf(annotationRef);
  if (index === undefined) return;
  annots.remove(index);
  markChanged(entry instanceof PDFRef ? entry : pageRef);
}

/**
 * Writes the changed and new objects, then a cross-reference section of the
 * same kind as the last one (table or stream) chained to it by /Prev.
 */
function serialiseUpdate(
  document: LoadedDocument,
  changed: UpdateObjects,
  signatureDictionaryText: string,
): Uint8Array {
  const { bytes, trailer, context } = document;
  const chunks: Uint8Array[] = [];
  const endsWithNewline = bytes.length > 0 && (bytes.at(-1) === 0x0a || bytes.at(-1) === 0x0d);
  let offset = bytes.length;
  const write = (chunk: Uint8Array | string) => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    chunks.push(data);
    offset += data.length;
  };
  if (!endsWithNewline) write('\n');

  const entries: { objectNumber: number; generation: number; offset: number }[] = [];
  const objects: { ref: PDFRef; body: Uint8Array | string }[] = [
    ...[...changed.pdfObjects.values()].map(({ ref, object }) => ({ ref, body: bytesOf(object) })),
    { ref: changed.signatureRef, body: signatureDictionaryText },
  ].sort((a, b) => a.ref.objectNumber - b.ref.objectNumber);
  for (const { ref, body } of objects) {
    entries.push({ objectNumber: ref.objectNumber, generation: ref.generationNumber, offset });
    write(`${ref.objectNumber} ${ref.generationNumber} obj\n`);
    write(body);
    write('\nendobj\n');
  }

  const previousSize = numberIn(trailer, 'Size') ?? 0;
  const id = documentId(document, changed);
  const carried = ['Root', 'Info']
    .map((key) => [key, trailer.get(PDFName.of(key))] as const)
    .filter((entry): entry is readonly [string, PDFRef] => entry[1] instanceof PDFRef)
    .map(([key, ref]) => `/${key} ${ref.toString()}`);

  const xrefOffset = offset;
  if (document.lastXrefIsStream) {
    const xrefRef = context.nextRef();
    entries.push({ objectNumber: xrefRef.objectNumber, generation: 0, offset: xrefOffset });
    const size = Math.max(previousSize, xrefRef.objectNumber + 1);
    const { index, data } = xrefStreamData(entries);
    write(`${xrefRef.objectNumber} 0 obj\n`);
    write(
      `<< /Type /XRef /Size ${size} /Index [${index.join(' ')}] /W [1 4 2] ${carried.join(' ')} /ID ${id} /Prev ${document.lastXrefOffset} /Length ${data.length} >>\nstream\n`,
    );
    write(data);
    write('\nendstream\nendobj\n');
  } else {
    const size = Math.max(previousSize, context.largestObjectNumber + 1);
    write(`xref\n${xrefTable(entries)}`);
    write(
      `trailer\n<< /Size ${size} ${carried.join(' ')} /ID ${id} /Prev ${document.lastXrefOffset} >>\n`,
    );
  }
  write(`startxref\n${xrefOffset}\n%%EOF\n`);
  return Buffer.concat(chunks);
}

/**
 * Keeps the first /ID (the document's permanent identifier) and gives this
 * revision a second one derived from its own content, so signing stays
 * deterministic.
 */
function documentId(document: LoadedDocument, changed: UpdateObjects): string {
  const revision = createHash('md5')
    .update(
      `${document.bytes.length}:${document.lastXrefOffset}:${changed.signatureRef.objectNumber}`,
    )
    .update(document.bytes.subarray(Math.max(0, document.bytes.length - 1024)))
    .digest('hex')
    .toUpperCase();
  const existing = document.trailer.lookupMaybe(PDFName.of('ID'), PDFArray)?.get(0);
  const permanent =
    existing instanceof PDFHexString || existing instanceof PDFString
      ? existing.toString()
      : `<${revision}>`;
  return `[${permanent} <${revision}>]`;
}

function xrefTable(entries: { objectNumber: number; generation: number; offset: number }[]) {
  let table = '';
  for (const run of consecutiveRuns(entries)) {
    table += `${run[0]!.objectNumber} ${run.length}\n`;
    for (const entry of run) {
      table += `${String(entry.offset).padStart(10, '0')} ${String(entry.generation).padStart(5, '0')} n\r\n`;
    }
  }
  return table;
}

function xrefStreamData(entries: { objectNumber: number; generation: number; offset: number }[]) {
  const index: number[] = [];
  const data = Buffer.alloc(entries.length * 7);
  let position = 0;
  for (const run of consecutiveRuns(entries)) {
    index.push(run[0]!.objectNumber, run.length);
    for (const entry of run) {
      data.writeUInt8(1, position);
      data.writeUInt32BE(entry.offset, position + 1);
      data.writeUInt16BE(entry.generation, position + 5);
      position += 7;
    }
  }
  return { index, data };
}

function consecutiveRuns<T extends { objectNumber: number }>(entries: T[]): T[][] {
  const sorted = [...entries].sort((a, b) => a.objectNumber - b.objectNumber);
  const runs: T[][] = [];
  for (const entry of sorted) {
    const run = runs.at(-1);
    if (run && run.at(-1)!.objectNumber + 1 === entry.objectNumber) run.push(entry);
    else runs.push([entry]);
  }
  return runs;
}

// ---------------------------------------------------------------------------
// Appearance

// pdf-lib types the embedder's argument with the enum of its font-metrics
// package, which holds the same strings as its own StandardFonts.
type EmbedderFontName = Parameters<typeof StandardFontEmbedder.for>[0];
const REGULAR = StandardFontEmbedder.for(StandardFonts.Helvetica as string as EmbedderFontName);
const BOLD = StandardFontEmbedder.for(StandardFonts.HelveticaBold as string as EmbedderFontName);
const LAW_LINE = 'Documento firmato digitalmente ai sensi del D.Lgs. 82/2005';
const LARGEST_FONT_SIZE = 10;
const SMALLEST_UNBROKEN_FONT_SIZE = 6;
const SMALLEST_FONT_SIZE = 4;
const FONT_SIZE_STEP = 0.25;
const LINE_SPACING = 1.2;
const ROME_TIME = new Intl.DateTimeFormat('it-IT', {
  timeZone: 'Europe/Rome',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** "25/11/2026 alle 14:03", in Italian time whatever the server's zone. */
export function romeSigningTime(date: Date): string {
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    ROME_TIME.formatToParts(date).find((candidate) => candidate.type === type)?.value ?? '';
  return `${part('day')}/${part('month')}/${part('year')} alle ${part('hour')}:${part('minute')}`;
}

interface AppearanceLine {
  text: string;
  font: StandardFontEmbedder;
  key: 'F1' | 'F2';
}

/**
 * A form XObject with the name, the role, the signing time and the legal
 * notice, at the largest size where all of it fits the box (wrapping words);
 * below the smallest legible size it is clipped to the box rather than spill.
 */
function appearanceStream(
  context: PDFContext,
  appearance: SignatureAppearance,
  signingTime: Date,
): PDFRawStream {
  const { width, height } = appearance;
  const padding = Math.min(3, width * 0.05, height * 0.05);
  const allLines: AppearanceLine[] = [
    { text: winAnsi(appearance.name), font: BOLD, key: 'F2' },
    { text: winAnsi(appearance.role), font: REGULAR, key: 'F1' },
    { text: `Firmato il ${romeSigningTime(signingTime)}`, font: REGULAR, key: 'F1' },
    { text: LAW_LINE, font: REGULAR, key: 'F1' },
  ];
  const lines = allLines.filter((line) => line.text.trim() !== '');

  const { size, wrapped } = fitLines(lines, width - 2 * padding, height - 2 * padding);

  const leading = size * LINE_SPACING;
  const blockHeight = wrapped.length * leading;
  // The block is centred vertically, and each line's glyphs (Helvetica: ascent
  // 0.718 em, descent 0.207 em) are centred in their line's slot.
  let baseline = (height + blockHeight) / 2 - leading / 2 - ((0.718 - 0.207) / 2) * size;
  const operators = [`q 0 0 ${num(width)} ${num(height)} re W n`, '0 g', 'BT'];
  let currentFont = '';
  for (const line of wrapped) {
    if (currentFont !== line.key) {
      operators.push(`/${line.key} ${num(size)} Tf`);
      currentFont = line.key;
    }
    const lineWidth = line.font.widthOfTextAtSize(line.text, size);
    const x = Math.max(padding, (width - lineWidth) / 2);
    operators.push(
      `1 0 0 1 ${num(x)} ${num(baseline)} Tm ${line.font.encodeText(line.text).toString()} Tj`,
    );
    baseline -= leading;
  }
  operators.push('ET', 'Q');

  const dict = context.obj({
    Type: 'XObject',
    Subtype: 'Form',
    BBox: [0, 0, width, height],
    Resources: {
      Font: {
        F1: standardFont(context, REGULAR),
        F2: standardFont(context, BOLD),
      },
    },
  });
  return PDFRawStream.of(dict, Buffer.from(operators.join('\n'), 'latin1'));
}

function standardFont(context: PDFContext, font: StandardFontEmbedder): PDFDict {
  return context.obj({
    Type: 'Font',
    Subtype: 'Type1',
    BaseFont: font.fontName,
    // WinAnsi carries the Italian accented letters the standard encoding lacks.
    Encoding: 'WinAnsiEncoding',
  });
}

/**
 * The largest font size at which the lines fit: unbroken if that still reads
 * well (a lone "82/2005" on its own line looks like an error), else wrapped.
 */
function fitLines(
  lines: AppearanceLine[],
  maxWidth: number,
  maxHeight: number,
): { size: number; wrapped: AppearanceLine[] } {
  const fitsHeight = (count: number, size: number) => count * size * LINE_SPACING <= maxHeight;
  for (let size = LARGEST_FONT_SIZE; size >= SMALLEST_UNBROKEN_FONT_SIZE; size -= FONT_SIZE_STEP) {
    const unbroken = lines.every(
      (line) => line.font.widthOfTextAtSize(line.text, size) <= maxWidth,
    );
    if (unbroken && fitsHeight(lines.length, size)) return { size, wrapped: lines };
  }
  let size = LARGEST_FONT_SIZE;
  let wrapped = wrapAll(lines, size, maxWidth);
  while (size > SMALLEST_FONT_SIZE && !fitsHeight(wrapped.length, size)) {
    size -= FONT_SIZE_STEP;
    wrapped = wrapAll(lines, size, maxWidth);
  }
  return { size, wrapped };
}

function wrapAll(lines: AppearanceLine[], size: number, maxWidth: number): AppearanceLine[] {
  return lines.flatMap((line) =>
    wrapText(line.text, line.font, size, maxWidth).map((text) => ({ ...line, text })),
  );
}

function wrapText(
  text: string,
  font: StandardFontEmbedder,
  size: number,
  maxWidth: number,
): string[] {
  const fits = (candidate: string) => font.widthOfTextAtSize(candidate, size) <= maxWidth;
  const result: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = current ? `${current} ${word}` : word;
    if (fits(candidate)) {
      current = candidate;
      continue;
    }
    if (current) result.push(current);
    // A word wider than the box is cut wherever it must be.
    current = '';
    for (const character of word) {
      if (current && !fits(current + character)) {
        result.push(current);
        current = '';
      }
      current += character;
    }
  }
  if (current) result.push(current);
  return result;
}

/** Keeps what WinAnsi can show; other letters lose their accent (ł → l) or become "?". */
function winAnsi(text: string): string {
  let result = '';
  for (const character of text.normalize('NFC')) {
    const codePoint = character.codePointAt(0)!;
    if (REGULAR.encoding.canEncodeUnicodeCodePoint(codePoint)) {
      result += character;
      continue;
    }
    const base = character.normalize('NFD').replace(/\p{M}/gu, '');
    const baseCodePoint = base.codePointAt(0);
    result +=
      base.length === 1 &&
      baseCodePoint !== undefined &&
      REGULAR.encoding.canEncodeUnicodeCodePoint(baseCodePoint)
        ? base
        : (STROKED_LETTERS[character] ?? '?');
  }
  return result;
}

/** Letters NFD does not decompose. */
const STROKED_LETTERS: Record<string, string> = {
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  ø: 'o',
  Ø: 'O',
  ı: 'i',
};

// ---------------------------------------------------------------------------
// Small helpers

function checkFieldName(fieldName: string): void {
  if (!fieldName || fieldName.includes('.') || fieldName.length > 127) {
    throw new PdfSigningError(
      'invalid-field-name',
      `"${fieldName}" cannot name a signature field: it must be 1 to 127 characters without "."`,
    );
  }
}

function checkAppearance(appearance: SignatureAppearance): void {
  const numbers = [appearance.x, appearance.y, appearance.width, appearance.height];
  if (
    !numbers.every(Number.isFinite) ||
    appearance.width <= 0 ||
    appearance.height <= 0 ||
    !Number.isInteger(appearance.page) ||
    appearance.page < 0
  ) {
    throw new PdfSigningError(
      'invalid-appearance',
      `The signature box must have a page index and a positive finite size, got ${JSON.stringify(appearance)}`,
    );
  }
}

function numberIn(dict: PDFDict, key: string): number | undefined {
  return dict.lookupMaybe(PDFName.of(key), PDFNumber)?.asNumber();
}

function textIn(dict: PDFDict, key: string): string | undefined {
  const value = dict.get(PDFName.of(key));
  return value instanceof PDFString || value instanceof PDFHexString
    ? value.decodeText()
    : undefined;
}

function bytesOf(object: PDFObject): Uint8Array {
  const bytes = new Uint8Array(object.sizeInBytes());
  object.copyBytesInto(bytes, 0);
  return bytes;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString(
    'latin1',
    Math.max(0, start),
    Math.min(bytes.length, end),
  );
}

function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
