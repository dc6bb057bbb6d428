import type { Types } from 'mongoose';
import {
  generateApiToken,
  hashApiToken,
  type Principal,
  type Role,
  type TokenResolver,
} from '../platform/auth.js';
import { HttpProblem } from '../platform/http-problem.js';
import { runInTenant } from '../platform/tenancy.js';
import { Organisation, type OrganisationKind } from '../organisations/model.js';
import { ApiToken, User } from './model.js';

/** Resolves a token hash to its caller; the one look-up that must cross tenants. */
export const resolveApiToken: TokenResolver = async (tokenHash) => {
  // Plain objects: this runs on every request and needs no document behaviour.
  const token = await ApiToken.findOne({ tokenHash, revokedAt: null })
    .setOptions({ crossTenant: true })
    .lean();
  if (!token) return undefined;
  const user = await User.findOne({
    _id: token.userId,
    organisationId: token.organisationId,
    active: true,
  })
    .setOptions({ crossTenant: true })
    .lean();
  if (!user) return undefined;
  const now = new Date();
  // Recorded at most once a minute: a write per request would be wasted I/O.
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > 60_000) {
    void ApiToken.updateOne({ _id: token._id }, { lastUsedAt: now })
      .setOptions({ crossTenant: true })
      .exec()
      .catch(() => undefined);
  }
  return {
    userId: user._id,
    organisationId: token.organisationId,
    tokenId: token._id,
    roles: user.roles,
    name: user.name,
  } satisfies Principal;
};

function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number }).code === 11000;
}

export async function createUser(input: { name: string; email: string; roles: Role[] }) {
  try {
    return await User.create({ ...input, roles: [...new Set(input.roles)] });
  } catch (error) {
    if (isDuplicateKey(error)) {
      throw HttpProblem.conflict(`Esiste già un utente con e-mail ${input.email}`);
    }
    throw error;
  }
}

export async function findUser(userId: string) {
  const user = await User.findById(userId);
  if (!user) throw HttpProblem.notFound(`Utente ${userId} non trovato`);
  return user;
}

/** Issues a token; the clear-text value is returned here once and never again. */
export async function issueToken(userId: Types.ObjectId, label: string) {
  const token = generateApiToken();
  const record = await ApiToken.create({
    userId,
    label,
    tokenHash: hashApiToken(token),
    hint: token.slice(0, 8),
  });
  return { record, token };
}

async function countOtherActiveAdmins(exceptUserId: Types.ObjectId): Promise<number> {
  return User.countDocuments({ _id: { $ne: exceptUserId }, roles: 'admin', active: true });
}

export async function updateUser(
  userId: string,
  changes: { name?: string; roles?: Role[]; active?: boolean },
) {
  const user = await findUser(userId);
  const losesAdmin =
    user.roles.includes('admin') &&
    user.active &&
    ((changes.roles && !changes.roles.includes('admin')) || changes.active === false);
  if (losesAdmin && (await countOtherActiveAdmins(user._id)) === 0) {
    throw HttpProblem.conflict(
      "Operazione rifiutata: l'ente resterebbe senza alcun amministratore attivo",
    );
  }
  if (changes.name !== undefined) user.name = changes.name;
  if (changes.roles !== undefined) user.roles = [...new Set(changes.roles)];
  if (changes.active !== undefined) user.active = changes.active;
  await user.save();
  return user;
}

export async function revokeToken(tokenId: string, revokedBy: Types.ObjectId) {
  const token = await ApiToken.findById(tokenId);
  if (!token) throw HttpProblem.notFound(`Token ${tokenId} non trovato`);
  if (!token.revokedAt) {
    token.revokedAt = new Date();
    token.revokedBy = revokedBy;
    await token.save();
  }
  return token;
}

/**
 * Creates an organisation with its first administrator and that administrator's
 * token. Used on first start and by `scripts/create-organisation.ts`.
 */
export async function createOrganisationWithAdmin(input: {
  name: string;
  kind?: OrganisationKind;
  adminName?: string;
  adminEmail?: string;
}) {
  const organisation = await Organisation.create({
    name: input.name,
    kind: input.kind ?? 'comune',
  });
  return runInTenant(organisation._id, async () => {
    const admin = await User.create({
      name: input.adminName ?? 'Amministratore',
      email: input.adminEmail ?? `admin@${organisation._id.toString()}.sigillo.local`,
      roles: ['admin'],
    });
    const { token } = await issueToken(admin._id, 'Token iniziale');
    return { organisation, admin, token };
  });
}

/** On an empty database, creates the first organisation and returns its admin token. */
export async function bootstrapIfEmpty(organisationName: string) {
  if ((await Organisation.countDocuments()) > 0) return undefined;
  return createOrganisationWithAdmin({ name: organisationName });
}
