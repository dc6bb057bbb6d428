/**
 * Outgoing e-mail: composing a message as an `.eml` (RFC 5322/MIME) and sending it over SMTP.
 * Plumbing only: who writes to whom, and why, is decided by the callers.
 *
 * What is sent is byte for byte the `.eml` composeEml returns for the same input, so the copy a
 * caller keeps as evidence of a PEC notice is the message the provider received.
 */
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';

export interface MailAttachment {
  filename: string;
  content: Uint8Array;
  contentType: string;
}

export interface OutgoingMail {
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  text: string;
  html?: string;
  attachments: MailAttachment[];
  date: Date;
  /**
   * Message-ID header, with or without the angle brackets. When missing one is derived from
   * the content (see composeEml), so composing the same mail twice gives the same message.
   */
  messageId?: string;
}

export interface SentMail {
  /** The Message-ID header of the message sent, angle brackets included. */
  messageId: string;
  accepted: string[];
  rejected: string[];
  /** The server's last reply, e.g. `250 2.0.0 Ok: queued as …`. */
  response: string;
}

export interface MailSender {
  send(mail: OutgoingMail): Promise<SentMail>;
  close(): void;
}

export type MailUnavailableReason = 'unreachable' | 'auth' | 'rejected' | 'timeout';

/** The SMTP server could not take the message; callers answer 503 (or 502 when it refused it). */
export class MailUnavailableError extends Error {
  override name = 'MailUnavailableError';

  constructor(
    readonly reason: MailUnavailableReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Composes the message as an `.eml`: CRLF line ends throughout, UTF-8 subject (encoded words)
 * and body (quoted-printable, or base64 when that is shorter), attachments in base64.
 *
 * Deterministic: the same input gives the same bytes. MailComposer would otherwise make three
 * random choices, all pinned here: the Date (always `mail.date`), the Message-ID (`mail.messageId`
 * or one derived from a hash of the content) and the MIME boundaries (their shared part is taken
 * from the same hash, which also keeps them from occurring in the content by accident).
 */
export async function composeEml(mail: OutgoingMail): Promise<Buffer> {
  return (await composeMessage(mail)).eml;
}

async function composeMessage(mail: OutgoingMail): Promise<{ eml: Buffer; messageId: string }> {
  if (mail.to.length === 0) {
    throw new TypeError('An e-mail needs at least one recipient');
  }
  const fingerprint = contentFingerprint(mail);
  const messageId = inAngleBrackets(
    mail.messageId ?? `${fingerprint.slice(0, 32)}.sigillo@${domainOf(mail.from)}`,
  );
  const composer = new MailComposer({
    from: mail.from,
    to: mail.to,
    ...(mail.cc && mail.cc.length > 0 ? { cc: mail.cc } : {}),
    subject: mail.subject,
    text: mail.text,
    ...(mail.html === undefined ? {} : { html: mail.html }),
    attachments: mail.attachments.map((attachment) => ({
      filename: attachment.filename,
      content: Buffer.from(attachment.content),
      contentType: attachment.contentType,
      contentTransferEncoding: 'base64',
      contentDisposition: 'attachment',
    })),
    date: mail.date,
    messageId,
    baseBoundary: fingerprint.slice(0, 24),
    // RFC 5322 allows no bare LF, and the SMTP client would turn the text's `\n` into CRLF on
    // the wire anyway: doing it here keeps the .eml identical to what is sent.
    newline: 'win',
    // The content is always given inline: nothing in a mail may make the composer read a file
    // or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const eml = await composer.compile().build();
  return { eml, messageId };
}

function contentFingerprint(mail: OutgoingMail): string {
  const canonical = JSON.stringify({
    from: mail.from,
    to: mail.to,
    cc: mail.cc ?? [],
    subject: mail.subject,
    text: mail.text,
    html: mail.html ?? null,
    date: mail.date.toISOString(),
    messageId: mail.messageId ?? null,
    attachments: mail.attachments.map((attachment) => ({
      filename: attachment.filename,
      contentType: attachment.contentType,
      sha256: createHash('sha256').update(attachment.content).digest('hex'),
    })),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

function inAngleBrackets(messageId: string): string {
  const bare = messageId.trim().replace(/^<|>$/g, '');
  return `<${bare}>`;
}

function domainOf(address: string): string {
  // `from` may be a display form such as `Comune di Prova <protocollo@pec.comune.it>`.
  const bare = /<([^>]*)>/.exec(address)?.[1] ?? address;
  return bare.split('@').pop()?.trim() || 'localhost';
}

export interface SmtpSettings {
  /** `smtps://user:password@host:465` (implicit TLS) or `smtp://user:password@host:587`. */
  url: string;
  /** false only for a provider whose certificate does not verify (a test or internal relay). */
  tlsRejectUnauthorized?: boolean;
  /** Longest wait for the connection, the greeting and each reply; 30 s by default. */
  timeoutMs?: number;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An SMTP sender: one connection per message, which suits a few notices a day and leaves no
 * idle connection for the provider to drop.
 *
 * On `smtp://` STARTTLS is required, so the credentials never cross the network in clear even if
 * an attacker strips the server's STARTTLS offer; a loopback host is exempt because the traffic
 * never leaves the machine (local relays, the tests). `?requireTLS=false` in the URL overrides.
 */
export function smtpSender(settings: SmtpSettings): MailSender {
  const url = new URL(settings.url);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new TypeError(`SMTP URL must start with smtp:// or smtps:// (got ${url.protocol}//)`);
  }
  // Only the host goes into error messages: the URL carries the password.
  const server = url.host;
  const timeoutMs = settings.timeoutMs ?? 30_000;
  const transport = nodemailer.createTransport({
    url: settings.url,
    requireTLS: url.protocol === 'smtp:' && !LOOPBACK_HOSTS.has(url.hostname),
    tls: { rejectUnauthorized: settings.tlsRejectUnauthorized ?? true },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });

  return {
    async send(mail) {
      const { eml, messageId } = await composeMessage(mail);
      try {
        const info = await transport.sendMail({
          raw: eml,
          // With a raw message nodemailer reads neither the headers nor the Message-ID from it.
          messageId,
          envelope: { from: mail.from, to: [...mail.to, ...(mail.cc ?? [])] },
        });
        return {
          messageId,
          accepted: info.accepted.map(addressText),
          rejected: info.rejected.map(addressText),
          response: info.response,
        };
      } catch (error) {
        throw asMailUnavailable(error, server);
      }
    },
    close() {
      transport.close();
    },
  };
}

function addressText(address: string | { address: string }): string {
  return typeof address === 'string' ? address : address.address;
}

const REASON_BY_CODE: Record<string, MailUnavailableReason> = {
  EAUTH: 'auth',
  ENOAUTH: 'auth',
  ETIMEDOUT: 'timeout',
  EENVELOPE: 'rejected',
  EMESSAGE: 'rejected',
  ECONNECTION: 'unreachable',
  ESOCKET: 'unreachable',
  EDNS: 'unreachable',
  ETLS: 'unreachable',
  EPROXY: 'unreachable',
  EPROTOCOL: 'unreachable',
  ECONNREFUSED: 'unreachable',
  ECONNRESET: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ENOTFOUND: 'unreachable',
};

/** Maps nodemailer's failures to MailUnavailableError; anything else (a bug) passes unchanged. */
function asMailUnavailable(error: unknown, server: string): unknown {
  if (!(error instanceof Error)) {
    return error;
  }
  const { code, responseCode } = error as Error & { code?: string; responseCode?: number };
  const reason =
    (code === undefined ? undefined : REASON_BY_CODE[code]) ??
    (responseCode !== undefined && responseCode >= 400 ? 'rejected' : undefined);
  if (reason === undefined) {
    return error;
  }
  return new MailUnavailableError(reason, `SMTP server ${server}: ${error.message}`, {
    cause: error,
  });
}
