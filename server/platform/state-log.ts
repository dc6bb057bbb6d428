import mongoose from 'mongoose';

/** One move of a record's state, with who made it and when. */
export const stateChangeSchema = new mongoose.Schema(
  {
    from: { type: String, default: null },
    to: { type: String, required: true },
    at: { type: Date, required: true },
    by: { type: String, required: true },
  },
  { _id: false },
);
