/**
 * A real SMTP server for tests (the smtp-server package) on 127.0.0.1, so sending is checked
 * against an independent implementation of the protocol rather than a mocked transport.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** The message exactly as it came through DATA (dot-unstuffed). */
  raw: Buffer;
}

export interface TestSmtpServer {
  /** `smtp://user:pass@127.0.0.1:port` (without credentials when none were asked for). */
  url: string;
  port: number;
  messages: ReceivedMail[];
  stop(): Promise<void>;
}

export async function startTestSmtpServer(
  options: { user?: string; pass?: string } = {},
): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const requiresAuth = options.user !== undefined;
  const server = new SMTPServer({
    // Plain text on loopback: the credentials never leave the machine, and the test needs no
    // certificate. TLS itself is nodemailer's business and not what these tests check.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: !requiresAuth,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === (options.pass ?? '')) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const { mailFrom, rcptTo } = session.envelope;
        messages.push({
          envelope: {
            from: mailFrom === false ? '' : mailFrom.address,
            to: rcptTo.map((recipient) => recipient.address),
          },
          raw: Buffer.concat(chunks),
        });
        callback();
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;
  const credentials = requiresAuth
    ? `${encodeURIComponent(options.user ?? '')}:${encodeURIComponent(options.pass ?? '')}@`
    : '';

  return {
    url: `smtp://${credentials}127.0.0.1:${port}`,
    port,
    messages,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
