import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { ConfigError, parseConfig } from '../../server/platform/config.js';
import {
  composeEml,
  MailUnavailableError,
  smtpSender,
  type OutgoingMail,
} from '../../server/platform/mail.js';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp-server.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

// Not a real PDF: the bytes only have to survive base64 unchanged, so every byte value is in.
const pdfBytes = new Uint8Array(
  Buffer.concat([
    Buffer.from('%PDF-1.7\n'),
    Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 37) % 256)),
    Buffer.from('\n%%EOF\n'),
  ]),
);

function breachNotice(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    from: 'protocollo@pec.comune.prova.it',
    to: ['protocollo@pec.gpdp.it'],
    cc: ['rpd@comune.prova.it'],
    subject:
      'Notifica di violazione dei dati personali – Comune di Prova (art. 33 GDPR), perché è urgente',
    text: 'Si trasmette la notifica firmata digitalmente.\nÈ allegato il modulo: città, attività, perché.\n',
    attachments: [
      {
        filename: 'notifica-violazione-2025-001.pdf',
        content: pdfBytes,
        contentType: 'application/pdf',
      },
    ],
    date: new Date('2025-03-14T09:26:53Z'),
    ...overrides,
  };
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  return [field ?? []].flat().flatMap((group) => group.value.map((entry) => entry.address ?? ''));
}

function expectTheNotice(parsed: ParsedMail, mail: OutgoingMail) {
  expect(parsed.subject).to.equal(mail.subject);
  expect(addresses(parsed.from)).to.deep.equal([mail.from]);
  expect(addresses(parsed.to)).to.deep.equal(mail.to);
  expect(addresses(parsed.cc)).to.deep.equal(mail.cc ?? []);
  expect(parsed.text).to.equal(mail.text);
  expect(parsed.date?.toISOString()).to.equal(mail.date.toISOString());
  expect(parsed.attachments).to.have.length(1);
  const [attachment] = parsed.attachments;
  expect(attachment?.filename).to.equal('notifica-violazione-2025-001.pdf');
  expect(attachment?.contentType).to.equal('application/pdf');
  expect(attachment?.contentDisposition).to.equal('attachment');
  expect(sha256(attachment?.content ?? Buffer.alloc(0))).to.equal(sha256(pdfBytes));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function sendError(promise: Promise<unknown>): Promise<MailUnavailableError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(MailUnavailableError);
    return error as MailUnavailableError;
  }
  throw new Error('expected the send to fail');
}

describe('mail', () => {
  describe('composeEml', () => {
    it('composes a MIME message that parses back to the same subject, addresses, text and PDF', async () => {
      const mail = breachNotice();
      const eml = await composeEml(mail);
      expect(eml.toString('latin1')).to.match(/^Content-Transfer-Encoding: base64\r$/m);
      // RFC 5322: every line ends in CRLF, the text's own `\n` included.
      expect(eml.toString('latin1')).not.to.match(/[^\r]\n/);
      // Header lines are 7-bit: the accented subject travels as encoded words.
      const headers = eml.subarray(0, eml.indexOf('\r\n\r\n'));
      expect([...headers].every((byte) => byte < 0x80)).to.be.true;
      expectTheNotice(await simpleParser(eml), mail);
    });

    it('gives byte-identical messages for the same input, Message-ID and boundaries included', async () => {
      const first = await composeEml(breachNotice());
      const second = await composeEml(breachNotice());
      expect(sha256(second)).to.equal(sha256(first));
      const parsed = await simpleParser(first);
      expect(parsed.messageId).to.match(/^<[0-9a-f]{32}\.sigillo@pec\.comune\.prova\.it>$/);
    });

    it('derives a different Message-ID and boundary when the content changes', async () => {
      const original = await simpleParser(await composeEml(breachNotice()));
      const changed = await simpleParser(
        await composeEml(
          breachNotice({
            attachments: [
              { ...breachNotice().attachments[0]!, content: new Uint8Array([1, 2, 3]) },
            ],
          }),
        ),
      );
      expect(changed.messageId).not.to.equal(original.messageId);
      const boundary = (parsed: ParsedMail) =>
        (parsed.headers.get('content-type') as { params: { boundary: string } }).params.boundary;
      expect(boundary(changed)).not.to.equal(boundary(original));
    });

    it('uses the Message-ID it is given, adding the angle brackets', async () => {
      const eml = await composeEml(
        breachNotice({ messageId: 'breach-42@sigillo.comune.prova.it' }),
      );
      expect((await simpleParser(eml)).messageId).to.equal('<breach-42@sigillo.comune.prova.it>');
    });

    it('adds an HTML alternative when given one', async () => {
      const parsed = await simpleParser(
        await composeEml(breachNotice({ html: '<p>Si trasmette la notifica: è urgente.</p>' })),
      );
      expect(parsed.html).to.contain('è urgente');
      expect(parsed.attachments).to.have.length(1);
    });
  });

  describe('smtpSender', () => {
    let server: TestSmtpServer;

    beforeEach(async () => {
      server = await startTestSmtpServer({
        user: 'protocollo@pec.comune.prova.it',
        pass: 'p@ss:wörd/1',
      });
    });

    afterEach(async () => {
      await server.stop();
    });

    it('sends the composed message, authenticated, and returns the Message-ID the server received', async () => {
      const mail = breachNotice();
      const sender = smtpSender({ url: server.url, timeoutMs: 5000 });
      try {
        const sent = await sender.send(mail);
        expect(sent.accepted).to.deep.equal(['protocollo@pec.gpdp.it', 'rpd@comune.prova.it']);
        expect(sent.rejected).to.deep.equal([]);
        expect(sent.response).to.match(/^250/);

        expect(server.messages).to.have.length(1);
        const [received] = server.messages;
        expect(received?.envelope).to.deep.equal({
          from: 'protocollo@pec.comune.prova.it',
          to: ['protocollo@pec.gpdp.it', 'rpd@comune.prova.it'],
        });
        const raw = received?.raw ?? Buffer.alloc(0);
        const parsed = await simpleParser(raw);
        expectTheNotice(parsed, mail);
        expect(parsed.messageId).to.equal(sent.messageId);
        // What went over the wire is the .eml Sigillo keeps as its copy.
        expect(sha256(raw)).to.equal(sha256(await composeEml(mail)));
      } finally {
        sender.close();
      }
    });

    it("reports 'auth' for a wrong password, without the password in the message", async () => {
      const url = new URL(server.url);
      url.password = 'not-the-password';
      const sender = smtpSender({ url: url.href, timeoutMs: 5000 });
      try {
        const error = await sendError(sender.send(breachNotice()));
        expect(error.reason).to.equal('auth');
        expect(error.message).to.contain(`127.0.0.1:${server.port}`);
        expect(error.message).not.to.contain('not-the-password');
        expect(server.messages).to.have.length(0);
      } finally {
        sender.close();
      }
    });

    it("reports 'unreachable' when nothing listens", async () => {
      const port = await closedPort();
      const sender = smtpSender({ url: `smtp://user:secret@127.0.0.1:${port}`, timeoutMs: 5000 });
      try {
        const error = await sendError(sender.send(breachNotice()));
        expect(error.reason).to.equal('unreachable');
        expect(error.message).not.to.contain('secret');
      } finally {
        sender.close();
      }
    });

    it("reports 'timeout' when the server never greets", async () => {
      const connections = new Set<Socket>();
      // Accepts the connection and says nothing, like a firewall that swallows the greeting.
      const silent = createServer((socket) => connections.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as AddressInfo;
      const sender = smtpSender({ url: `smtp://user:secret@127.0.0.1:${port}`, timeoutMs: 300 });
      try {
        const error = await sendError(sender.send(breachNotice()));
        expect(error.reason).to.equal('timeout');
      } finally {
        sender.close();
        connections.forEach((socket) => socket.destroy());
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });
  });

  describe('configuration', () => {
    const url = 'smtps://protocollo%40pec.comune.prova.it:s3gr3t0@smtps.pec.example.it:465';

    it('accepts an smtps:// URL with credentials, with the sender and the defaults', () => {
      const config = parseConfig({ SMTP_URL: url, SMTP_FROM: 'protocollo@pec.comune.prova.it' });
      expect(config.SMTP_URL).to.equal(url);
      expect(config.SMTP_FROM).to.equal('protocollo@pec.comune.prova.it');
      expect(config.SMTP_TLS_REJECT_UNAUTHORIZED).to.equal(true);
      expect(config.GARANTE_PEC).to.equal('protocollo@pec.gpdp.it');
    });

    it('leaves mail off by default', () => {
      const config = parseConfig({});
      expect(config.SMTP_URL).to.equal(undefined);
      expect(config.SMTP_FROM).to.equal(undefined);
    });

    for (const refused of [
      'https://protocollo:s3gr3t0@smtps.pec.example.it',
      'smtps://smtps.pec.example.it:465',
      'smtps://protocollo:s3gr3t0@',
      'not a url s3gr3t0',
    ]) {
      it(`refuses SMTP_URL=${refused.replace('s3gr3t0', '…')} naming it, with the value hidden`, () => {
        expect(() => parseConfig({ SMTP_URL: refused, SMTP_FROM: 'a@b.it' }))
          .to.throw(ConfigError, 'SMTP_URL')
          .with.property('message')
          .that.contains('(got (hidden))')
          .and.not.contains('s3gr3t0');
      });
    }

    it('requires SMTP_FROM with SMTP_URL and refuses a sender that is not an address', () => {
      expect(() => parseConfig({ SMTP_URL: url })).to.throw(ConfigError, 'SMTP_FROM');
      expect(() => parseConfig({ SMTP_URL: url, SMTP_FROM: 'protocollo' })).to.throw(
        ConfigError,
        'SMTP_FROM must be an e-mail address',
      );
    });

    it('reads SMTP_TLS_REJECT_UNAUTHORIZED and GARANTE_PEC', () => {
      const config = parseConfig({
        SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
        GARANTE_PEC: 'test@pec.example.it',
      });
      expect(config.SMTP_TLS_REJECT_UNAUTHORIZED).to.equal(false);
      expect(config.GARANTE_PEC).to.equal('test@pec.example.it');
      expect(() => parseConfig({ GARANTE_PEC: 'garante' })).to.throw(ConfigError, 'GARANTE_PEC');
    });
  });
});
