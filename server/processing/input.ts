/**
 * What a client may write into a registro entry. One zod schema serves the JSON
 * API and the CSV import, so both refuse the same things with the same reasons.
 */
import { z } from 'zod';
import { italian, objectIdSchema } from '../platform/api.js';
import {
  controllerRoles,
  databaseKinds,
  dataSpecialKinds,
  dpiaAnswers,
  legalBases,
  legalBasisCodes,
  type LegalBasisCode,
  type LegalBasisGroup,
} from './model.js';

// Italian messages for the generic checks (types, enums, unknown keys): every reason reaches an Italian user.

const text = (max: number) =>
  z.string(italian).trim().min(1, 'non può essere vuoto').max(max, `al massimo ${max} caratteri`);
const optionalText = (max: number) =>
  z.string(italian).trim().max(max, `al massimo ${max} caratteri`).nullable().optional();
const textList = (itemMax: number, listMax = 100) =>
  z.array(text(itemMax), italian).max(listMax, `al massimo ${listMax} voci`);

export const legalBasisSchema = z.enum(legalBasisCodes, italian).openapi({
  description: legalBases.map((basis) => `${basis.code}: ${basis.label}`).join('\n'),
});

const dataCategorySchema = z
  .object(
    {
      name: text(300),
      special: z.enum(dataSpecialKinds, italian).optional().openapi({
        description:
          'none: dati comuni; art9: categorie particolari (art. 9 GDPR); art10: dati giudiziari (art. 10 GDPR). Predefinito none',
      }),
    },
    italian,
  )
  .strict();

const databaseSchema = z
  .object(
    {
      name: text(300),
      kind: z.enum(databaseKinds, italian),
      notes: optionalText(2000),
    },
    italian,
  )
  .strict();

const transfersSchema = z
  .object(
    {
      present: z.boolean(italian),
      countries: textList(100, 250).optional(),
      safeguards: optionalText(2000).openapi({
        description: 'Garanzie (artt. 45–49 GDPR): decisione di adeguatezza, clausole tipo, …',
      }),
    },
    italian,
  )
  .strict()
  .superRefine((transfers, context) => {
    const countries = transfers.countries ?? [];
    if (transfers.present) {
      if (countries.length === 0) {
        context.addIssue({
          code: 'custom',
          path: ['countries'],
          message: 'indicare i paesi terzi o le organizzazioni internazionali destinatari',
        });
      }
      if (!transfers.safeguards) {
        context.addIssue({
          code: 'custom',
          path: ['safeguards'],
          message: 'indicare le garanzie del trasferimento (artt. 45–49 GDPR)',
        });
      }
    } else {
      if (countries.length > 0) {
        context.addIssue({
          code: 'custom',
          path: ['countries'],
          message: 'paesi indicati ma il trasferimento è dichiarato assente',
        });
      }
      if (transfers.safeguards) {
        context.addIssue({
          code: 'custom',
          path: ['safeguards'],
          message: 'garanzie indicate ma il trasferimento è dichiarato assente',
        });
      }
    }
  });

/** The fields with no defaults: a PATCH must not turn an omitted field into its default. */
const fields = {
  name: text(300),
  code: z
    .string(italian)
    .trim()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$/,
      'lettere, cifre e . _ / - (al massimo 40 caratteri, senza spazi)',
    )
    .nullable()
    .optional()
    .openapi({ description: "Codice dell'attività nel registro, unico per ente", example: 'T01' }),
  purposes: z
    .array(text(1000), italian)
    .min(1, 'indicare almeno una finalità')
    .max(50, 'al massimo 50 finalità'),
  legalBasis: z
    .array(legalBasisSchema, italian)
    .min(1, 'indicare almeno una base giuridica')
    .max(20, 'al massimo 20 basi giuridiche'),
  controllerRole: z.enum(controllerRoles, italian).optional().openapi({
    description: "Ruolo dell'ente nel trattamento; predefinito titolare",
  }),
  otherControllers: textList(300).optional().openapi({
    description:
      'Per contitolare: gli altri contitolari (art. 26); per responsabile: i titolari per conto dei quali si tratta (art. 30, par. 2)',
  }),
  dataSubjectCategories: z
    .array(text(300), italian)
    .min(1, 'indicare almeno una categoria di interessati')
    .max(100, 'al massimo 100 voci'),
  personalDataCategories: z
    .array(dataCategorySchema, italian)
    .min(1, 'indicare almeno una categoria di dati personali')
    .max(200, 'al massimo 200 voci'),
  recipients: textList(300).optional(),
  transfersOutsideEU: transfersSchema.optional(),
  retention: text(2000).openapi({ description: 'Termini di conservazione / cancellazione' }),
  securityMeasures: textList(1000).optional(),
  settoreId: objectIdSchema.nullable().optional(),
  databases: z.array(databaseSchema, italian).max(100, 'al massimo 100 voci').optional(),
  processors: textList(300).optional().openapi({
    description: 'Responsabili esterni del trattamento (art. 28), per nome',
  }),
  dpiaRequired: z.enum(dpiaAnswers, italian).optional(),
};

const groupOf = new Map<LegalBasisCode, LegalBasisGroup>(
  legalBases.map((basis) => [basis.code, basis.group]),
);

type FieldName = keyof typeof fields;
const crossCheckedFields = new Set<string>([
  'legalBasis',
  'personalDataCategories',
  'controllerRole',
  'otherControllers',
] satisfies FieldName[]);

/**
 * Rules spanning fields: which legal bases the data categories call for, and who
 * the other controllers are. They run only once those fields are valid by
 * themselves, so that each problem is reported once and on the right field.
 */
const coherence = z.superRefine<{
  legalBasis: LegalBasisCode[];
  personalDataCategories: { special?: (typeof dataSpecialKinds)[number] | undefined }[];
  controllerRole?: (typeof controllerRoles)[number] | undefined;
  otherControllers?: string[] | undefined;
}>(
  (value, context) => {
    const groups = new Set(value.legalBasis.map((code) => groupOf.get(code)));
    const specials = new Set(value.personalDataCategories.map((category) => category.special));
    const issue = (path: string, message: string) =>
      context.addIssue({ code: 'custom', path: [path], message });
    if (!groups.has('art6')) {
      issue('legalBasis', 'indicare almeno una base giuridica dell’art. 6, par. 1 GDPR');
    }
    if (specials.has('art9') && !groups.has('art9')) {
      issue(
        'legalBasis',
        'le categorie particolari di dati (art. 9) richiedono una condizione dell’art. 9, par. 2 GDPR',
      );
    }
    if (!specials.has('art9') && groups.has('art9')) {
      issue(
        'legalBasis',
        'condizione dell’art. 9, par. 2 indicata ma nessuna categoria di dati è particolare (art9)',
      );
    }
    if (specials.has('art10') && !groups.has('art10')) {
      issue(
        'legalBasis',
        'i dati giudiziari (art. 10) richiedono art10 o art2-octies (art. 2-octies D.Lgs. 196/2003)',
      );
    }
    if (!specials.has('art10') && groups.has('art10')) {
      issue(
        'legalBasis',
        'art. 10 / 2-octies indicati ma nessuna categoria di dati è giudiziaria (art10)',
      );
    }
    const role = value.controllerRole ?? 'titolare';
    const others = value.otherControllers ?? [];
    if (role === 'contitolare' && others.length === 0) {
      issue('otherControllers', 'indicare gli altri contitolari (art. 26 GDPR)');
    }
    if (role === 'responsabile' && others.length === 0) {
      issue(
        'otherControllers',
        'indicare i titolari per conto dei quali l’ente tratta i dati (art. 30, par. 2 GDPR)',
      );
    }
    if (role === 'titolare' && others.length > 0) {
      issue('otherControllers', 'altri titolari indicati ma il ruolo dell’ente è titolare');
    }
  },
  {
    when: (payload) =>
      typeof payload.value === 'object' &&
      payload.value !== null &&
      !payload.issues.some((issue) => crossCheckedFields.has(String(issue.path?.[0]))),
  },
);

export const processingActivityInputSchema = z
  .object(fields, italian)
  .strict()
  .check(coherence)
  .openapi('ProcessingActivityInput');

export type ProcessingActivityInput = z.infer<typeof processingActivityInputSchema>;

export const processingActivityChangesSchema = z
  .object(fields, italian)
  .partial()
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'indicare almeno un campo da modificare')
  .openapi('ProcessingActivityChanges');

export type ProcessingActivityChanges = z.infer<typeof processingActivityChangesSchema>;
