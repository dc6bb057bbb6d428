import type { Types } from 'mongoose';
import { HttpProblem } from '../platform/http-problem.js';
import { isDuplicateKey, searchable, sortSpec, wordsFilter } from '../people/fields.js';
import { Supplier } from './model.js';

interface Address {
  street: string;
  cap: string;
  city: string;
  province: string;
}

export interface SupplierInput {
  name: string;
  vatNumber: string;
  taxCode?: string | null | undefined;
  pec?: string | null | undefined;
  email?: string | null | undefined;
  address?: Address | null | undefined;
  legalRepresentative?: { name: string; taxCode?: string | undefined } | null | undefined;
}

export type SupplierChanges = Partial<SupplierInput> & { archived?: boolean | undefined };

export async function findSupplier(supplierId: string) {
  const supplier = await Supplier.findById(supplierId);
  if (!supplier) throw HttpProblem.notFound(`Fornitore ${supplierId} non trovato`);
  return supplier;
}

function duplicateVatNumber(vatNumber: string, existingId?: string, archived = false) {
  return HttpProblem.conflict(
    `Esiste già un fornitore con partita IVA ${vatNumber}` +
      (archived ? ' (archiviato: ripristinarlo con archived=false)' : ''),
    {
      invalidParams: [{ name: 'body.vatNumber', reason: 'partita IVA già presente nell’ente' }],
      ...(existingId ? { existingId } : {}),
    },
  );
}

async function refuseDuplicateVatNumber(vatNumber: string, exceptId?: Types.ObjectId) {
  const existing = await Supplier.findOne({
    vatNumber,
    ...(exceptId ? { _id: { $ne: exceptId } } : {}),
  });
  if (existing) throw duplicateVatNumber(vatNumber, existing.id, existing.archived);
}

export async function createSupplier(input: SupplierInput) {
  await refuseDuplicateVatNumber(input.vatNumber);
  try {
    return await Supplier.create({ ...input, searchName: searchable(input.name) });
  } catch (error) {
    if (isDuplicateKey(error)) throw duplicateVatNumber(input.vatNumber);
    throw error;
  }
}

export async function updateSupplier(supplierId: string, changes: SupplierChanges) {
  const supplier = await findSupplier(supplierId);
  if (changes.vatNumber !== undefined && changes.vatNumber !== supplier.vatNumber) {
    await refuseDuplicateVatNumber(changes.vatNumber, supplier._id);
  }
  supplier.set(changes);
  supplier.searchName = searchable(supplier.name);
  try {
    await supplier.save();
  } catch (error) {
    if (isDuplicateKey(error)) throw duplicateVatNumber(supplier.vatNumber);
    throw error;
  }
  return supplier;
}

/**
 * Archives rather than deletes. Nothing refers to suppliers yet; when acts
 * (nomine a responsabile) do, this is where the refusal belongs.
 */
export async function archiveSupplier(supplierId: string) {
  const supplier = await findSupplier(supplierId);
  if (!supplier.archived) {
    supplier.archived = true;
    await supplier.save();
  }
  return supplier;
}

export async function listSuppliers(query: {
  q?: string | undefined;
  includeArchived: 'true' | 'false';
  sort: string;
  limit: number;
  offset: number;
}) {
  const filter = {
    ...(query.includeArchived === 'true' ? {} : { archived: false }),
    ...wordsFilter('searchName', query.q),
  };
  const [items, total] = await Promise.all([
    Supplier.find(filter)
      .sort(sortSpec(query.sort, { name: 'searchName' }))
      .skip(query.offset)
      .limit(query.limit),
    Supplier.countDocuments(filter),
  ]);
  return { items, total };
}
