import mongoose, { type InferSchemaType } from 'mongoose';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { jsonView } from '../platform/json-view.js';
import { addressSchema } from '../organisations/model.js';

const legalRepresentativeSchema = new mongoose.Schema(
  {
    name: { type: String, required: true },
    taxCode: { type: String, default: null },
  },
  { _id: false },
);

/** A firm the ente works with, typically named responsabile del trattamento (art. 28 GDPR). */
const supplierSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    /** Ragione sociale. */
    name: { type: String, required: true, trim: true },
    vatNumber: { type: String, required: true, trim: true },
    taxCode: { type: String, default: null, trim: true },
    pec: { type: String, default: null, trim: true, lowercase: true },
    email: { type: String, default: null, trim: true, lowercase: true },
    address: { type: addressSchema, default: null },
    legalRepresentative: { type: legalRepresentativeSchema, default: null },
    archived: { type: Boolean, required: true, default: false },
    /** The name lower case and without accents, for word search and sorting. */
    searchName: { type: String, required: true },
  },
  {
    timestamps: true,
    toJSON: jsonView({ hidden: ['searchName'] }),
  },
);
supplierSchema.plugin(tenantScoped);
supplierSchema.index({ organisationId: 1, vatNumber: 1 }, { unique: true });
supplierSchema.index({ organisationId: 1, searchName: 1 });

export type SupplierRecord = InferSchemaType<typeof supplierSchema>;
export const Supplier = mongoose.model('Supplier', supplierSchema);
