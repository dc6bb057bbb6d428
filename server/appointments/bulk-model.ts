import mongoose, { type InferSchemaType } from 'mongoose';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { jsonView } from '../platform/json-view.js';
import { storedFileSchema } from '../documents/model.js';

/**
 * A bulk issue of autorizzazioni: the people it authorises, fixed when it is
 * requested, and its progress. The acts themselves are appointments marked with
 * this job and their row, so a resumed run finds what is done.
 */
const bulkIssueSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    /** The client's Idempotency-Key, or the job's own id when none was sent. */
    idempotencyKey: { type: String, required: true, immutable: true },
    /** SHA-256 of the request: the same key with another request is refused. */
    requestHash: { type: String, required: true, immutable: true },
    role: { type: String, enum: ['autorizzato'], required: true, immutable: true },
    source: { type: String, enum: ['settore', 'csv'], required: true, immutable: true },
    settoreId: { type: mongoose.Schema.Types.ObjectId, ref: 'Settore', required: true },
    designatoAppointmentId: {
      type: mongoose.Schema.Types.ObjectId,
      ref: 'Appointment',
      required: true,
    },
    personIds: { type: [mongoose.Schema.Types.ObjectId], ref: 'Person', default: [] },
    instructions: { type: [String], default: [] },
    startDate: { type: String, default: null },
    endDate: { type: String, default: null },
    status: {
      type: String,
      enum: ['queued', 'running', 'completed', 'failed'],
      required: true,
      default: 'queued',
    },
    total: { type: Number, required: true },
    done: { type: Number, required: true, default: 0 },
    failures: {
      type: [
        new mongoose.Schema(
          {
            row: { type: Number, required: true },
            personId: { type: mongoose.Schema.Types.ObjectId, default: null },
            message: { type: String, required: true },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    queueJobId: { type: String, default: null },
    createdBy: {
      type: new mongoose.Schema(
        {
          userId: { type: mongoose.Schema.Types.ObjectId, ref: 'User', required: true },
          name: { type: String, required: true },
        },
        { _id: false },
      ),
      required: true,
    },
    startedAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
    zip: { type: storedFileSchema, default: null },
    pdf: { type: storedFileSchema, default: null },
  },
  {
    timestamps: true,
    minimize: false,
    toJSON: jsonView({ hidden: ['requestHash', 'personIds', 'instructions'] }),
  },
);
bulkIssueSchema.plugin(tenantScoped);
bulkIssueSchema.index({ organisationId: 1, idempotencyKey: 1 }, { unique: true });

export type BulkIssueRecord = InferSchemaType<typeof bulkIssueSchema>;
export const BulkIssue = mongoose.model('BulkIssue', bulkIssueSchema);
export type BulkIssueDocument = InstanceType<typeof BulkIssue>;
