import mongoose, { type InferSchemaType } from 'mongoose';
import { roles } from '../platform/auth.js';
import { jsonView } from '../platform/json-view.js';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';

const userSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    name: { type: String, required: true, trim: true },
    email: { type: String, required: true, trim: true, lowercase: true },
    roles: {
      type: [{ type: String, enum: roles }],
      validate: (value: string[]) => value.length > 0,
    },
    active: { type: Boolean, required: true, default: true },
  },
  { timestamps: true, toJSON: jsonView({ hidden: ['tokenHash'] }) },
);
userSchema.plugin(tenantScoped);
userSchema.index({ organisationId: 1, email: 1 }, { unique: true });

export type UserRecord = InferSchemaType<typeof userSchema>;
export const User = mongoose.model('User', userSchema);

const apiTokenSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    userId: { type: mongoose.Schema.Types.ObjectId, ref: 'User', required: true },
    label: { type: String, required: true, trim: true },
    /** SHA-256 of the token; the token itself is never stored. */
    tokenHash: { type: String, required: true, unique: true },
    /** The first characters of the token, so that a user can tell tokens apart. */
    hint: { type: String, required: true },
    lastUsedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
    revokedBy: { type: mongoose.Schema.Types.ObjectId, ref: 'User', default: null },
  },
  { timestamps: true, toJSON: jsonView({ hidden: ['tokenHash'] }) },
);
apiTokenSchema.plugin(tenantScoped);

export type ApiTokenRecord = InferSchemaType<typeof apiTokenSchema>;
export const ApiToken = mongoose.model('ApiToken', apiTokenSchema);
