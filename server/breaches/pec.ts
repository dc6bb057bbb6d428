/**
 * The notice to the Garante goes by PEC: a ready-to-send e-mail (.eml) with the
 * signed notice attached, and, where an SMTP server (the ente's PEC provider)
 * is configured, the sending itself with its message id recorded on the breach.
 */
import { z } from 'zod';
import { sendBytes } from '../documents/download.js';
import { findDocument } from '../documents/service.js';
import { Organisation } from '../organisations/model.js';
import { objectIdSchema, type Api } from '../platform/api.js';
import type { Principal } from '../platform/auth.js';
import type { Config } from '../platform/config.js';
import { HttpProblem } from '../platform/http-problem.js';
import {
  composeEml,
  MailUnavailableError,
  smtpSender,
  type OutgoingMail,
} from '../platform/mail.js';
import { sha256Hex, type ObjectStorage } from '../platform/storage.js';
import { formatRomeLong, notificationDeadline } from './clock.js';
import {
  breachCode,
  checkNotificationType,
  findBreach,
  lateWithoutReasons,
  presentBreach,
  recordNotification,
} from './service.js';

const writers = ['admin', 'dpo', 'segreteria'] as const;
const readers = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;

interface PecSettings {
  from?: string | undefined;
  garante: string;
  smtpUrl?: string | undefined;
  tlsRejectUnauthorized: boolean;
}

/** The PEC message of a generated notice: the latest signed PDF attached, never the unsigned one. */
async function noticeMail(
  breachId: string,
  documentId: string,
  settings: PecSettings,
  storage: ObjectStorage,
) {
  const breach = await findBreach(breachId);
  const generated = breach.documents.find(
    (document) => document.documentId.toString() === documentId && document.kind === 'notification',
  );
  if (!generated) {
    throw HttpProblem.notFound(
      `Il documento ${documentId} non è una notifica di questa violazione`,
    );
  }
  const document = await findDocument(documentId);
  const signed = document.signedVersions[document.signedVersions.length - 1];
  if (signed?.format !== 'pades') {
    throw HttpProblem.conflict(
      'La notifica va firmata digitalmente prima dell’invio al Garante: richiedere la firma del documento (firma PAdES)',
      { currentState: signed ? 'firmata-in-busta-p7m' : 'non-firmata' },
    );
  }
  const organisation = await Organisation.findById(breach.organisationId);
  const from = settings.from ?? organisation?.pec ?? undefined;
  if (!from) {
    throw new HttpProblem(422, 'Mittente PEC mancante', 'Indicare la PEC dell’ente', {
      invalidParams: [{ name: 'organisation.pec', reason: 'indicare la PEC dell’ente' }],
    });
  }
  const { body } = await storage.get(signed.file.key, {
    expectedSha256: signed.file.sha256,
    ...(signed.file.versionId ? { versionId: signed.file.versionId } : {}),
  });
  const code = breachCode(breach);
  const type = generated.notificationType ?? 'completa';
  const ente = organisation?.name ?? 'Ente';
  const mail: OutgoingMail = {
    from,
    to: [settings.garante],
    subject: `Notifica di violazione dei dati personali (art. 33 GDPR) – ${ente} – ${code} – ${type}`,
    text: [
      'Spettabile Garante per la protezione dei dati personali,',
      '',
      `si trasmette in allegato, firmata digitalmente, la notifica ${type} della violazione dei dati personali ${code} ai sensi dell’art. 33 del Regolamento (UE) 2016/679.`,
      `L’ente ne è venuto a conoscenza il ${formatRomeLong(breach.awareAt)}; il termine di 72 ore scade il ${formatRomeLong(notificationDeadline(breach.awareAt))}.`,
      '',
      'Distinti saluti.',
      ente,
    ].join('\r\n'),
    attachments: [
      { filename: signed.file.fileName, content: body, contentType: 'application/pdf' },
    ],
    date: signed.createdAt,
  };
  return { breach, mail, type, attachmentSha256: sha256Hex(body) };
}

export function registerPecRoutes(
  api: Api,
  { storage, config }: { storage: ObjectStorage; config: Config },
): void {
  const settings: PecSettings = {
    from: config.SMTP_FROM,
    garante: config.GARANTE_PEC,
    smtpUrl: config.SMTP_URL,
    tlsRejectUnauthorized: config.SMTP_TLS_REJECT_UNAUTHORIZED,
  };
  const params = z.object({ breachId: objectIdSchema, documentId: objectIdSchema });

  api.route({
    method: 'get',
    path: '/api/v1/breaches/:breachId/notices/:documentId/eml',
    summary:
      'Il messaggio PEC pronto da inviare al Garante (.eml, MIME) con la notifica firmata in allegato',
    tags: ['Violazioni'],
    access: readers,
    params,
    responses: {
      200: {
        description: 'Il messaggio',
        schema: z.string().openapi({ format: 'binary' }),
        contentType: 'message/rfc822',
      },
      409: { description: 'Notifica non ancora firmata' },
    },
    handler: async ({ params: path }, _request, response) => {
      const { mail, breach } = await noticeMail(path.breachId, path.documentId, settings, storage);
      const eml = await composeEml(mail);
      sendBytes(response, eml, {
        sha256: sha256Hex(eml),
        contentType: 'message/rfc822',
        fileName: `Notifica ${breachCode(breach)}.eml`,
      });
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/breaches/:breachId/notices/:documentId/send',
    summary:
      'Invia la notifica firmata al Garante via PEC (SMTP configurato) e registra l’invio con il Message-ID',
    tags: ['Violazioni'],
    access: writers,
    params,
    body: z
      .object({
        delayReasons: z.string().trim().min(10).max(4000).optional(),
        protocollo: z.string().trim().min(1).max(100).optional(),
      })
      .strict(),
    responses: {
      200: { description: 'Inviata e registrata' },
      409: { description: 'Notifica non firmata o non ammessa in questa fase' },
      422: { description: 'Oltre le 72 ore senza i motivi del ritardo' },
      503: { description: 'SMTP non configurato o non raggiungibile: nulla è registrato' },
    },
    handler: async ({ params: path, body, principal }, _request, response) => {
      if (!settings.smtpUrl) {
        throw HttpProblem.unavailable(
          'Nessun server SMTP configurato (SMTP_URL): scaricare il messaggio .eml e inviarlo dalla casella PEC dell’ente',
        );
      }
      const { breach, mail, type } = await noticeMail(
        path.breachId,
        path.documentId,
        settings,
        storage,
      );
      // Checked before anything goes out: a PEC cannot be recalled.
      checkNotificationType(breach, type);
      const now = new Date();
      if (
        type !== 'integrativa' &&
        lateWithoutReasons(breach, now, body.delayReasons ?? breach.delayReasons)
      ) {
        throw HttpProblem.unprocessable('Motivi del ritardo mancanti', [
          {
            name: 'body.delayReasons',
            reason:
              'notifica oltre le 72 ore: indicare i motivi del ritardo (art. 33, par. 1, GDPR)',
          },
        ]);
      }
      const sender = smtpSender({
        url: settings.smtpUrl,
        tlsRejectUnauthorized: settings.tlsRejectUnauthorized,
      });
      let messageId: string;
      try {
        messageId = (await sender.send(mail)).messageId;
      } catch (error) {
        if (error instanceof MailUnavailableError) {
          throw HttpProblem.unavailable(`Invio PEC non riuscito: ${error.message}`, {
            reason: error.reason,
          });
        }
        throw error;
      } finally {
        sender.close();
      }
      const recorded = await recordSent(path, { type, now, messageId, body }, principal);
      response.json(presentBreach(recorded));
    },
  });
}

async function recordSent(
  path: { breachId: string; documentId: string },
  sent: {
    type: 'preliminare' | 'completa' | 'integrativa';
    now: Date;
    messageId: string;
    body: { delayReasons?: string | undefined; protocollo?: string | undefined };
  },
  principal: Principal,
) {
  try {
    return await recordNotification(
      path.breachId,
      {
        type: sent.type,
        sentAt: sent.now.toISOString(),
        pecMessageId: sent.messageId,
        documentId: path.documentId,
        ...(sent.body.delayReasons ? { delayReasons: sent.body.delayReasons } : {}),
        ...(sent.body.protocollo ? { protocollo: sent.body.protocollo } : {}),
      },
      principal,
      sent.now,
    );
  } catch (error) {
    // Already sent: say so, with the id, so the sending can be recorded by hand.
    if (error instanceof HttpProblem) {
      throw new HttpProblem(
        error.status,
        error.title,
        `PEC inviata (Message-ID ${sent.messageId}) ma non registrata: ${error.detail ?? error.title}`,
        { ...error.extensions, pecMessageId: sent.messageId },
      );
    }
    throw error;
  }
}
