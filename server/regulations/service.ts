import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Types } from 'mongoose';
import { z } from 'zod';
import { HttpProblem } from '../platform/http-problem.js';
import type { Logger } from '../platform/logger.js';
import { currentTenant } from '../platform/tenancy.js';
import { Regulation, RegulationArticle } from './model.js';
import {
  articleText,
  parseRegulation,
  pointsOf,
  type Comma,
  type ParsedArticle,
  type ParsedRegulation,
} from './parser.js';

/** Lower case without accents, so that "liberta" finds "libertà". */
export function searchable(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[’']/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface RegulationContent {
  key: string;
  kind: 'catalogue' | 'regolamento';
  title: string;
  shortTitle?: string | undefined;
  issuingBody?: string | undefined;
  approvedBy?: string | undefined;
  inForceFrom?: string | undefined;
  articles: ParsedArticle[];
  problems: ParsedRegulation['problems'];
}

function articleSearchText(article: ParsedArticle): string {
  const body = article.commi
    .map((comma) => [comma.text, ...flattenPoints(comma.points)].join(' '))
    .join(' ');
  return searchable(`art. ${article.number} ${article.title ?? ''} ${body}`);
}

function flattenPoints(points: ParsedArticle['commi'][number]['points']): string[] {
  return points.flatMap((point) => [point.text, ...flattenPoints(point.points)]);
}

/**
 * Saves a regulation as a new version unless the latest of the same key and
 * owner has the same content. FerretDB v1 has no transactions, so the new
 * version is written as `importing`, its articles follow, and only then does it
 * become `in-force` (and the previous one `superseded`); an import cut short
 * leaves an invisible `importing` version that the next import removes.
 */
export async function saveRegulation(
  content: RegulationContent,
  owner: { organisationId: Types.ObjectId | null; origin: 'file' | 'upload' | 'cli' },
) {
  const contentHash = createHash('sha256').update(JSON.stringify(content)).digest('hex');
  const scope = { organisationId: owner.organisationId, key: content.key };
  const stale = await Regulation.find({ ...scope, status: 'importing' }).setOptions({
    crossTenant: true,
  });
  for (const leftover of stale) {
    await RegulationArticle.deleteMany({ regulationId: leftover._id }).setOptions({
      crossTenant: true,
    });
    await Regulation.deleteOne({ _id: leftover._id }).setOptions({ crossTenant: true });
  }
  const latest = await Regulation.findOne(scope)
    .sort({ version: -1 })
    .setOptions({ crossTenant: true });
  if (latest?.contentHash === contentHash) return { regulation: latest, created: false };

  const regulation = await Regulation.create({
    ...scope,
    version: (latest?.version ?? 0) + 1,
    title: content.title,
    shortTitle: content.shortTitle ?? null,
    issuingBody: content.issuingBody ?? null,
    approvedBy: content.approvedBy ?? null,
    inForceFrom: content.inForceFrom ?? null,
    kind: content.kind,
    status: 'importing',
    contentHash,
    articleCount: content.articles.length,
    importProblems: content.problems,
    origin: owner.origin,
  });
  await RegulationArticle.insertMany(
    content.articles.map((article, position) => ({
      organisationId: owner.organisationId,
      regulationId: regulation._id,
      number: article.number,
      occurrence: article.occurrence,
      position,
      title: article.title ?? null,
      titolo: article.titolo ?? null,
      capo: article.capo ?? null,
      commi: JSON.stringify(article.commi),
      searchText: articleSearchText(article),
    })),
  );
  await Regulation.updateMany(
    { ...scope, status: 'in-force', _id: { $ne: regulation._id } },
    { status: 'superseded' },
  ).setOptions({ crossTenant: true });
  regulation.status = 'in-force';
  await regulation.save();
  return { regulation, created: true };
}

const catalogueSchema = z.object({
  title: z.string().min(3),
  shortTitle: z.string().min(2),
  issuingBody: z.string().min(3),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  articles: z.array(z.object({ number: z.string().min(1), title: z.string().min(2) })).min(1),
});

/** A catalogue file (data/catalogo/*.json): article numbers and official titles. */
export function catalogueContent(key: string, json: unknown): RegulationContent {
  const catalogue = catalogueSchema.parse(json);
  return {
    key,
    kind: 'catalogue',
    title: catalogue.title,
    shortTitle: catalogue.shortTitle,
    issuingBody: catalogue.issuingBody,
    inForceFrom: catalogue.date,
    articles: catalogue.articles.map((article) => ({
      number: article.number,
      occurrence: 1,
      title: article.title,
      line: 0,
      commi: [],
    })),
    problems: [],
  };
}

export function regolamentoContent(key: string, text: string, fileName: string): RegulationContent {
  const parsed = parseRegulation(text, {
    format: fileName.endsWith('.md') ? 'markdown' : fileName.endsWith('.txt') ? 'text' : 'auto',
  });
  return {
    key,
    kind: 'regolamento',
    title: parsed.title,
    issuingBody: parsed.issuingBody,
    approvedBy: parsed.approvedBy,
    inForceFrom: parsed.inForceFrom,
    articles: parsed.articles,
    problems: parsed.problems,
  };
}

/** Loads data/catalogo/*.json and data/regolamenti/* as shared regulations, idempotently. */
export async function loadShippedRegulations(dataDirectory: string, logger: Logger) {
  const created: string[] = [];
  const unchanged: string[] = [];
  const record = (result: { regulation: { key: string; version: number }; created: boolean }) =>
    (result.created ? created : unchanged).push(
      `${result.regulation.key}@${result.regulation.version}`,
    );
  const catalogueDir = path.join(dataDirectory, 'catalogo');
  for (const file of (await readdir(catalogueDir))
    .filter((name) => name.endsWith('.json'))
    .sort()) {
    const json = JSON.parse(await readFile(path.join(catalogueDir, file), 'utf8')) as unknown;
    record(
      await saveRegulation(catalogueContent(path.basename(file, '.json'), json), {
        organisationId: null,
        origin: 'file',
      }),
    );
  }
  const regolamentiDir = path.join(dataDirectory, 'regolamenti');
  for (const file of (await readdir(regolamentiDir))
    .filter((name) => /\.(md|txt)$/.test(name))
    .sort()) {
    const text = await readFile(path.join(regolamentiDir, file), 'utf8');
    record(
      await saveRegulation(regolamentoContent(file.replace(/\.(md|txt)$/, ''), text, file), {
        organisationId: null,
        origin: 'file',
      }),
    );
  }
  logger.info({ created, unchanged }, 'shipped regulations loaded');
  return { created, unchanged };
}

export async function findRegulation(id: string) {
  const regulation = await Regulation.findOne({ _id: id, status: { $ne: 'importing' } });
  if (!regulation) throw HttpProblem.notFound(`Regolamento ${id} non trovato`);
  return regulation;
}

export async function searchArticles(query: {
  words?: string | undefined;
  number?: string | undefined;
  regulation?: string | undefined;
  limit: number;
}) {
  const regulations = await Regulation.find({
    status: 'in-force',
    ...(query.regulation ? { key: query.regulation } : {}),
  });
  const filter: Record<string, unknown> = {
    regulationId: { $in: regulations.map((regulation) => regulation._id) },
  };
  if (query.number) filter.number = query.number.trim().toLowerCase();
  const words = query.words ? searchable(query.words).split(' ').filter(Boolean) : [];
  if (words.length > 0) {
    filter.$and = words.map((word) => ({ searchText: { $regex: escapeRegex(word) } }));
  }
  const articles = await RegulationArticle.find(filter).sort({ position: 1 }).limit(query.limit);
  const byId = new Map(regulations.map((regulation) => [regulation.id, regulation]));
  return articles.map((article) => ({
    ...(article.toJSON() as Record<string, unknown>),
    regulation: {
      key: byId.get(article.regulationId.toString())?.key,
      title: byId.get(article.regulationId.toString())?.title,
    },
  }));
}

/** The ente's regolamento as templates see it: `regolamentoEnte.articoli["5"].commi["2"].punti`. */
export interface RegolamentoContext {
  chiave: string;
  titolo: string;
  approvatoCon: string | null;
  articoli: Record<
    string,
    {
      numero: string;
      titolo: string | null;
      testo: string;
      commi: Record<string, { testo: string; punti: string[] }>;
    }
  >;
}

/** Regulation versions never change, so their template view is built once. */
const regolamentoContexts = new Map<string, RegolamentoContext>();

export async function regolamentoContext(key: string): Promise<RegolamentoContext | undefined> {
  const tenant = currentTenant();
  const candidates = await Regulation.find({ key, status: 'in-force' });
  const chosen =
    candidates.find((candidate) => tenant && candidate.organisationId?.equals(tenant)) ??
    candidates.find((candidate) => candidate.organisationId === null);
  if (!chosen) return undefined;
  const cached = regolamentoContexts.get(chosen.id);
  if (cached) return cached;
  const articles = await RegulationArticle.find({ regulationId: chosen._id }).sort({ position: 1 });
  const articoli: RegolamentoContext['articoli'] = {};
  for (const stored of articles) {
    const article = { number: stored.number, commi: JSON.parse(stored.commi) as Comma[] };
    // A second article with the same number (Calderara's two "Art. 41") is "41#2".
    const name = stored.occurrence > 1 ? `${stored.number}#${stored.occurrence}` : stored.number;
    const commi: RegolamentoContext['articoli'][string]['commi'] = {};
    for (const comma of article.commi) {
      if (!comma.number || comma.number in commi) continue;
      commi[comma.number] = {
        testo: articleText(article, { comma: comma.number }),
        punti: pointsOf(article, comma.number),
      };
    }
    articoli[name] = {
      numero: stored.number,
      titolo: stored.title ?? null,
      testo: articleText(article),
      commi,
    };
  }
  const context = {
    chiave: chosen.key,
    titolo: chosen.title,
    approvatoCon: chosen.approvedBy ?? null,
    articoli,
  };
  regolamentoContexts.set(chosen.id, context);
  return context;
}
