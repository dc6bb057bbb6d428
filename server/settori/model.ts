import mongoose, { type InferSchemaType } from 'mongoose';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { jsonView } from '../platform/json-view.js';

/**
 * A settore (area, servizio) of the ente with its apical manager, who is
 * usually the designato for the processing done there.
 */
const settoreSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    name: { type: String, required: true, trim: true },
    code: { type: String, default: null, trim: true },
    managerId: { type: mongoose.Schema.Types.ObjectId, ref: 'Person', default: null },
    email: { type: String, default: null, trim: true, lowercase: true },
    archived: { type: Boolean, required: true, default: false },
  },
  {
    timestamps: true,
    toJSON: jsonView(),
  },
);
settoreSchema.plugin(tenantScoped);
settoreSchema.index({ organisationId: 1, managerId: 1 });

export type SettoreRecord = InferSchemaType<typeof settoreSchema>;
export const Settore = mongoose.model('Settore', settoreSchema);
