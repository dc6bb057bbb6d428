import { z } from 'zod';
import { objectIdSchema, type Api } from '../platform/api.js';
import { HttpProblem } from '../platform/http-problem.js';
import { Regulation, RegulationArticle } from './model.js';
import { findRegulation, regolamentoContent, saveRegulation, searchArticles } from './service.js';

const allRoles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
const keySchema = z
  .string()
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'solo lettere minuscole, cifre e trattini')
  .max(80);

const regulationSchema = z
  .object({
    id: z.string(),
    key: z.string(),
    version: z.number().int(),
    title: z.string(),
    kind: z.enum(['catalogue', 'regolamento']),
    status: z.enum(['in-force', 'superseded']),
    approvedBy: z.string().nullable(),
    inForceFrom: z.string().nullable(),
    articleCount: z.number().int(),
    organisationId: z.string().nullable(),
    importProblems: z.array(z.object({ line: z.number(), message: z.string(), text: z.string() })),
  })
  .openapi('Regulation');

const articleSchema = z
  .object({
    id: z.string(),
    number: z.string(),
    occurrence: z.number().int(),
    title: z.string().nullable(),
    titolo: z.string().nullable(),
    capo: z.string().nullable(),
    commi: z.array(z.unknown()),
  })
  .openapi('RegulationArticle');

export function registerRegulationRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/api/v1/regulations',
    summary: "Norme e regolamenti visibili all'ente (GDPR, Codice, regolamenti)",
    tags: ['Norme'],
    access: allRoles,
    query: z.object({ includeSuperseded: z.enum(['true', 'false']).default('false') }),
    responses: { 200: { description: 'Norme', schema: z.array(regulationSchema) } },
    handler: async ({ query }, _request, response) => {
      const statuses: ('in-force' | 'superseded')[] =
        query.includeSuperseded === 'true' ? ['in-force', 'superseded'] : ['in-force'];
      response.json(
        await Regulation.find({ status: { $in: statuses } }).sort({ key: 1, version: -1 }),
      );
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/regulations/:regulationId',
    summary: 'Una norma con i suoi articoli',
    tags: ['Norme'],
    access: allRoles,
    params: z.object({ regulationId: objectIdSchema }),
    responses: {
      200: {
        description: 'Norma e articoli',
        schema: regulationSchema.extend({ articles: z.array(articleSchema) }),
      },
    },
    handler: async ({ params }, _request, response) => {
      const regulation = await findRegulation(params.regulationId);
      const articles = await RegulationArticle.find({ regulationId: regulation._id }).sort({
        position: 1,
      });
      response.json({ ...(regulation.toJSON() as Record<string, unknown>), articles });
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/articles',
    summary: 'Cerca articoli per parole (senza accenti) e/o per numero',
    tags: ['Norme'],
    access: allRoles,
    query: z
      .object({
        q: z.string().trim().min(2, 'almeno 2 caratteri').max(200).optional(),
        number: z.string().trim().max(30).optional(),
        regulation: keySchema.optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      })
      .refine((value) => value.q !== undefined || value.number !== undefined, {
        message: 'indicare q (parole) o number (numero di articolo)',
        path: ['q'],
      }),
    responses: { 200: { description: 'Articoli trovati', schema: z.array(articleSchema) } },
    handler: async ({ query }, _request, response) => {
      response.json(
        await searchArticles({
          words: query.q,
          number: query.number,
          regulation: query.regulation,
          limit: query.limit,
        }),
      );
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/regulations',
    summary: "Importa il regolamento dell'ente da un file di testo o Markdown",
    tags: ['Norme'],
    access: ['admin'],
    body: z
      .object({
        key: keySchema,
        acceptProblems: z
          .enum(['true', 'false'], { error: 'true o false' })
          .default('false')
          .transform((value) => value === 'true'),
      })
      .strict(),
    upload: {
      maxFileSize: 1024 * 1024,
      files: [
        { name: 'file', required: true, description: 'Testo del regolamento (.md o .txt, UTF-8)' },
      ],
    },
    responses: {
      201: { description: 'Nuova versione importata', schema: regulationSchema },
      200: { description: 'Contenuto identico: nessuna nuova versione', schema: regulationSchema },
      422: {
        description:
          'File non leggibile, senza articoli, o con righe non collocate (importProblems, con il numero di riga) e acceptProblems non impostato: nulla viene salvato',
      },
    },
    handler: async ({ body, files, principal }, _request, response) => {
      const file = files.file!;
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(file.buffer);
      } catch {
        throw new HttpProblem(422, 'Codifica non valida', 'Il file deve essere testo UTF-8', {
          invalidParams: [{ name: 'files.file', reason: 'non è testo UTF-8' }],
        });
      }
      const content = regolamentoContent(body.key, text, file.originalname);
      if (content.articles.length === 0) {
        throw new HttpProblem(
          422,
          'Nessun articolo',
          'Nel file non è stato riconosciuto alcun articolo',
          {
            invalidParams: [{ name: 'files.file', reason: 'nessun articolo riconosciuto' }],
            importProblems: content.problems.slice(0, 50),
          },
        );
      }
      if (content.problems.length > 0 && !body.acceptProblems) {
        throw new HttpProblem(
          422,
          'Regolamento da verificare',
          `${content.problems.length} righe non collocate (prima: riga ${content.problems[0]!.line}); correggere il file o ripetere con acceptProblems=true`,
          {
            invalidParams: [{ name: 'files.file', reason: 'righe non collocate' }],
            importProblems: content.problems,
          },
        );
      }
      const { regulation, created } = await saveRegulation(content, {
        organisationId: principal.organisationId,
        origin: 'upload',
      });
      response.status(created ? 201 : 200).json(regulation);
    },
  });
}
