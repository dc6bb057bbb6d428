import mongoose, { type InferSchemaType } from 'mongoose';

export const organisationKinds = [
  'comune',
  'provincia',
  'citta-metropolitana',
  'regione',
  'unione-di-comuni',
  'altro',
] as const;
export type OrganisationKind = (typeof organisationKinds)[number];

const organisationSchema = new mongoose.Schema(
  {
    name: { type: String, required: true, trim: true },
    kind: { type: String, enum: organisationKinds, required: true, default: 'comune' },
  },
  {
    timestamps: true,
    toJSON: {
      virtuals: true,
      versionKey: false,
      transform: (_document, returned: Record<string, unknown>) => {
        delete returned._id;
        return returned;
      },
    },
  },
);

export type OrganisationRecord = InferSchemaType<typeof organisationSchema>;

/** The tenant root: every tenant-owned record points to one organisation. */
export const Organisation = mongoose.model('Organisation', organisationSchema);
