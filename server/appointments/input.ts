/**
 * What a client may write into an appointment. Only drafts change; once issued,
 * an appointment moves on by lifecycle actions only.
 */
import { z } from 'zod';
import { italian, objectIdSchema } from '../platform/api.js';
import { emailSchema, isoDateSchema, pecSchema, phoneSchema } from '../people/fields.js';
import { appointmentRoles, authorityKinds } from './model.js';

const text = (max: number) =>
  z.string(italian).trim().min(1, 'non può essere vuoto').max(max, `al massimo ${max} caratteri`);
const textList = (itemMax: number, listMax = 200) =>
  z.array(text(itemMax), italian).max(listMax, `al massimo ${listMax} voci`);
const idList = (max: number) => z.array(objectIdSchema, italian).max(max, `al massimo ${max} voci`);

const authoritySchema = z
  .object({
    kind: z.enum(authorityKinds, italian).openapi({
      description:
        'sindaco: decreto del Sindaco (Titolare); designato: atto del Designato di un settore (per gli autorizzati). Predefinito: designato per gli autorizzati, sindaco per gli altri ruoli',
    }),
    appointmentId: objectIdSchema.nullable().optional().openapi({
      description:
        'La nomina del Designato che adotta l’atto; se assente, quella del Designato in carica per il settore',
    }),
  })
  .strict();

const dpoInputSchema = z
  .object({
    kind: z.enum(['persona', 'societa'], italian),
    contactPersonId: objectIdSchema.nullable().optional(),
    email: emailSchema,
    pec: pecSchema.nullable().optional(),
    phone: phoneSchema.nullable().optional(),
    engagement: text(300).nullable().optional().openapi({
      description: 'Estremi del contratto o della determinazione di affidamento (RPD esterno)',
    }),
    qualifications: text(2000).openapi({
      description:
        "Le qualità professionali dell'RPD (art. 37, par. 5, GDPR) che motivano la scelta",
    }),
  })
  .strict();

const systemAdministratorInputSchema = z
  .object({
    systems: textList(300, 100),
    functions: textList(500, 100),
    yearlyCheck: z
      .object({ responsible: text(300), deadline: text(200) })
      .strict()
      .nullable()
      .optional(),
    logRetentionMonths: z
      .number(italian)
      .int()
      .min(6, 'i log di accesso vanno conservati almeno 6 mesi')
      .max(120)
      .optional(),
    external: z.boolean(italian).optional(),
    firm: text(300).nullable().optional(),
  })
  .strict();

const processorInputSchema = z
  .object({
    contract: z
      .object({
        subject: text(500),
        reference: text(300).nullable().optional(),
        cig: z
          .string(italian)
          .trim()
          .regex(/^[A-Z0-9]{10}$/i, 'CIG non valido: 10 caratteri alfanumerici')
          .nullable()
          .optional(),
      })
      .strict()
      .nullable()
      .optional(),
    natureAndPurpose: text(2000).nullable().optional(),
    dataTypes: textList(300, 100).optional(),
    dataSubjectCategories: textList(300, 100).optional(),
    processorAppointmentId: objectIdSchema.nullable().optional(),
    authorisationKind: z.enum(['specifica', 'generale'], italian).nullable().optional(),
  })
  .strict();

const jointControllerInputSchema = z
  .object({
    parties: textList(300, 50),
    subject: text(1000),
    responsibilities: textList(1000, 100),
    contactPoint: text(300).nullable().optional(),
    signedOn: isoDateSchema.nullable().optional(),
  })
  .strict();

const draftFields = {
  personId: objectIdSchema.nullable().optional(),
  supplierId: objectIdSchema.nullable().optional(),
  authority: authoritySchema.optional(),
  legalBasis: text(500).optional().openapi({
    description: 'Predefinita per ruolo (es. art. 2-quaterdecies del D.Lgs. 196/2003)',
  }),
  settoreIds: idList(50).optional(),
  processingActivityIds: idList(500).optional().openapi({
    description: 'Trattamenti del registro; se assenti, quelli del settore',
  }),
  databases: textList(300, 500).optional().openapi({
    description: 'Banche dati; se assenti, quelle dei trattamenti indicati',
  }),
  tasks: textList(2000, 200).optional(),
  instructions: textList(2000, 200).optional().openapi({
    description: "Istruzioni per l'autorizzato; se assenti, quelle standard di Sigillo",
  }),
  startDate: isoDateSchema.nullable().optional(),
  endDate: isoDateSchema.nullable().optional(),
  dpo: dpoInputSchema.nullable().optional(),
  systemAdministrator: systemAdministratorInputSchema.nullable().optional(),
  processor: processorInputSchema.nullable().optional(),
  jointController: jointControllerInputSchema.nullable().optional(),
  supersedesId: objectIdSchema.nullable().optional().openapi({
    description: 'La nomina che questa sostituisce: all’emissione viene revocata con atto proprio',
  }),
};

export const newAppointmentSchema = z
  .object({ role: z.enum(appointmentRoles, italian), ...draftFields })
  .strict()
  .openapi('NewAppointment');
export type NewAppointment = z.infer<typeof newAppointmentSchema>;

export const appointmentChangesSchema = z
  .object(draftFields)
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'indicare almeno un campo da modificare')
  .openapi('AppointmentChanges');
export type AppointmentChanges = z.infer<typeof appointmentChangesSchema>;

export const revocationSchema = z
  .object({
    reason: text(1000).openapi({ description: 'Motivo della revoca, riportato nell’atto' }),
    effectiveDate: isoDateSchema.optional().openapi({ description: 'Predefinita: oggi' }),
  })
  .strict()
  .openapi('Revocation');

export const transitionNoteSchema = z
  .object({ note: text(1000).optional() })
  .strict()
  .openapi('TransitionNote');

export const dpoCommunicationSchema = z
  .object({
    garanteCommunication: z
      .object({ date: isoDateSchema, protocol: text(100) })
      .strict()
      .optional(),
    publication: z
      .object({ date: isoDateSchema, url: z.url('indirizzo non valido').max(500) })
      .strict()
      .optional(),
  })
  .strict()
  .refine(
    (value) => value.garanteCommunication ?? value.publication,
    'indicare la comunicazione al Garante o la pubblicazione',
  )
  .openapi('DpoCommunication');
