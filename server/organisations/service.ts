import type { Types } from 'mongoose';
import { HttpProblem, type InvalidParam } from '../platform/http-problem.js';
import { IntegrityError, sha256Hex, type ObjectStorage } from '../platform/storage.js';
import { referenceProblem } from '../people/fields.js';
import { isUsablePerson } from '../people/service.js';
import { Regulation } from '../regulations/model.js';
import { Organisation, type dpoKinds, type OrganisationKind } from './model.js';

interface Address {
  street: string;
  cap: string;
  city: string;
  province: string;
}

export interface OrganisationChanges {
  name?: string | undefined;
  kind?: OrganisationKind | undefined;
  province?: string | null | undefined;
  address?: Address | null | undefined;
  pec?: string | null | undefined;
  email?: string | null | undefined;
  taxCode?: string | null | undefined;
  vatNumber?: string | null | undefined;
  legalRepresentative?:
    | {
        personId: string;
        role: string;
        appointmentAct?: string | null | undefined;
        since?: string | null | undefined;
      }
    | null
    | undefined;
  dpo?:
    | {
        kind: (typeof dpoKinds)[number];
        name: string;
        contactPerson?: string | null | undefined;
        email: string;
        pec?: string | null | undefined;
        phone?: string | null | undefined;
        appointmentAct?: string | null | undefined;
        appointedOn?: string | null | undefined;
      }
    | null
    | undefined;
  regolamentoKey?: string | null | undefined;
}

/** The caller's own organisation: the tenant root, so always looked up by the caller's id. */
export async function findOrganisation(organisationId: Types.ObjectId) {
  const organisation = await Organisation.findById(organisationId);
  if (!organisation) throw HttpProblem.notFound('Ente non trovato');
  return organisation;
}

async function referenceProblems(changes: OrganisationChanges): Promise<InvalidParam[]> {
  const problems: InvalidParam[] = [];
  const personId = changes.legalRepresentative?.personId;
  if (personId && !(await isUsablePerson(personId))) {
    problems.push({
      name: 'body.legalRepresentative.personId',
      reason: "persona inesistente nell'ente o archiviata",
    });
  }
  if (changes.regolamentoKey) {
    // Reads on regulations also see the shipped ones (organisationId null).
    const regolamento = await Regulation.exists({
      key: changes.regolamentoKey,
      kind: 'regolamento',
      status: 'in-force',
    });
    if (!regolamento) {
      problems.push({
        name: 'body.regolamentoKey',
        reason: "nessun regolamento in vigore con questa chiave è visibile all'ente",
      });
    }
  }
  return problems;
}

export async function updateOrganisation(
  organisationId: Types.ObjectId,
  changes: OrganisationChanges,
) {
  const organisation = await findOrganisation(organisationId);
  const problems = await referenceProblems(changes);
  if (problems.length > 0) throw referenceProblem(problems);
  organisation.set(changes);
  await organisation.save();
  return organisation;
}

export const logoMaxBytes = 512 * 1024;

/** By their first bytes: what the client declares is not trusted. */
function imageType(bytes: Buffer): 'image/png' | 'image/jpeg' | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return 'image/png';
  }
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return 'image/jpeg';
  }
  return undefined;
}

/**
 * Stores the logo under a key made of its SHA-256, so a new logo never
 * overwrites the bytes an earlier one had; the record points to the latest.
 */
export async function saveLogo(
  organisationId: Types.ObjectId,
  bytes: Buffer,
  storage: ObjectStorage,
) {
  const contentType = imageType(bytes);
  if (!contentType) {
    throw new HttpProblem(
      422,
      'Formato non supportato',
      'Il logo deve essere un’immagine PNG o JPEG',
      {
        invalidParams: [{ name: 'files.logo', reason: 'non è un file PNG o JPEG' }],
      },
    );
  }
  const organisation = await findOrganisation(organisationId);
  const key = `organisations/${organisationId.toString()}/logo/${sha256Hex(bytes)}`;
  const stored = await storage.put(key, bytes, contentType);
  organisation.logo = {
    key: stored.key,
    sha256: stored.sha256,
    contentType: stored.contentType,
    size: stored.size,
    versionId: stored.versionId ?? null,
    uploadedAt: new Date(),
  };
  await organisation.save();
  return organisation;
}

export async function readLogo(organisationId: Types.ObjectId, storage: ObjectStorage) {
  const { logo } = await findOrganisation(organisationId);
  if (!logo) throw HttpProblem.notFound("L'ente non ha ancora un logo");
  try {
    const { body } = await storage.get(logo.key, {
      expectedSha256: logo.sha256,
      ...(logo.versionId ? { versionId: logo.versionId } : {}),
    });
    return { body, logo };
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
}
