/**
 * The 72-hour clock of a personal data breach (art. 33(1) GDPR; seed 002 art.
 * 32 c.3), and the Europe/Rome date-times it is read and printed in. Pure code:
 * no database, no current time unless passed in.
 *
 * The 72 hours are absolute hours counted from the instant the ente became
 * aware, as art. 33(1) counts them; across a change of daylight saving time the
 * local deadline therefore moves by an hour against the wall clock:
 * - awareness 28 March 2026 23:30 CET (22:30Z) → deadline 31 March 2026 22:30Z,
 *   which Rome reads as 1 April 2026 00:30 CEST (+02:00);
 * - awareness 24 October 2026 23:30 CEST (21:30Z) → deadline 27 October 2026
 *   21:30Z, which Rome reads as 22:30 CET (+01:00).
 * The offsets come from the runtime's time-zone data through Intl, so no rule
 * is hard-coded here.
 */

export const timeZone = 'Europe/Rome';
export const notificationHours = 72;
/** Seed 002 art. 7: a processor tells the Titolare within 48 hours of identifying a breach. */
export const processorNoticeHours = 48;

const hourMs = 3_600_000;

const romeParts = new Intl.DateTimeFormat('en-GB', {
  timeZone,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock date and time in Rome at an instant. */
export function romeWallClock(instant: Date): LocalDateTime {
  const parts = Object.fromEntries(
    romeParts.formatToParts(instant).map((part) => [part.type, part.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** Rome's offset from UTC at an instant, in minutes: 60 (CET) or 120 (CEST). */
export function romeOffsetMinutes(instant: Date): number {
  const local = romeWallClock(instant);
  const asUtc = Date.UTC(
    local.year,
    local.month - 1,
    local.day,
    local.hour,
    local.minute,
    local.second,
  );
  const whole = instant.getTime() - (instant.getTime() % 1000);
  return Math.round((asUtc - whole) / 60_000);
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const absolute = Math.abs(minutes);
  return `${sign}${pad(Math.floor(absolute / 60))}:${pad(absolute % 60)}`;
}

/** ISO 8601 in Rome's local time with its offset: "2026-03-31T23:30:00+02:00". */
export function formatRome(instant: Date): string {
  const local = romeWallClock(instant);
  return (
    `${pad(local.year, 4)}-${pad(local.month)}-${pad(local.day)}` +
    `T${pad(local.hour)}:${pad(local.minute)}:${pad(local.second)}` +
    offsetText(romeOffsetMinutes(instant))
  );
}

/** The calendar date in Rome (AAAA-MM-GG). */
export function romeDate(instant: Date): string {
  return formatRome(instant).slice(0, 10);
}

const monthNames = [
  'gennaio',
  'febbraio',
  'marzo',
  'aprile',
  'maggio',
  'giugno',
  'luglio',
  'agosto',
  'settembre',
  'ottobre',
  'novembre',
  'dicembre',
];

/** As Italian acts write it: "31 marzo 2026, ore 23:30 (ora legale)". */
export function formatRomeLong(instant: Date): string {
  const local = romeWallClock(instant);
  const season = romeOffsetMinutes(instant) === 120 ? 'ora legale' : 'ora solare';
  return `${local.day} ${monthNames[local.month - 1]} ${local.year}, ore ${pad(local.hour)}:${pad(local.minute)} (${season})`;
}

export class DateTimeInputError extends Error {
  override name = 'DateTimeInputError';
}

const withOffset =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$/;
const localOnly = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * The instant of a date-time as clients send it:
 * - ISO 8601 with `Z` or an offset ("2026-03-28T23:30:00+01:00") is that instant;
 * - without an offset ("2026-03-28T23:30") it is Rome's wall-clock time. A local
 *   time that does not exist (the hour skipped on the last Sunday of March,
 *   02:00–02:59) or that happens twice (the hour repeated on the last Sunday of
 *   October, 02:00–02:59) is refused: the client must state the offset.
 */
export function parseDateTime(input: string): Date {
  const offsetMatch = withOffset.exec(input);
  if (offsetMatch) {
    const instant = new Date(input);
    if (Number.isNaN(instant.getTime()) || !validFields(offsetMatch)) {
      throw new DateTimeInputError('data e ora inesistenti');
    }
    return instant;
  }
  const localMatch = localOnly.exec(input);
  if (!localMatch || !validFields(localMatch)) {
    throw new DateTimeInputError(
      'usare AAAA-MM-GGTHH:MM con l’offset (es. 2026-03-28T23:30+01:00) o l’ora locale italiana senza offset',
    );
  }
  const [, year, month, day, hour, minute, second] = localMatch;
  const local: LocalDateTime = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second ?? 0),
  };
  const candidates = romeInstantsOf(local);
  if (candidates.length === 0) {
    throw new DateTimeInputError(
      'ora inesistente in Italia (cambio all’ora legale): indicare l’offset',
    );
  }
  if (candidates.length > 1) {
    throw new DateTimeInputError(
      'ora ambigua in Italia (cambio all’ora solare, l’ora si ripete): indicare l’offset, +02:00 o +01:00',
    );
  }
  return candidates[0]!;
}

function validFields(match: RegExpExecArray): boolean {
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match
    .slice(1, 7)
    .map((part) => (part === undefined ? 0 : Number(part)));
  const probe = new Date(Date.UTC(year, month - 1, day));
  return (
    probe.getUTCMonth() === month - 1 &&
    probe.getUTCDate() === day &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59
  );
}

/** Every instant at which Rome's clocks showed this wall-clock time: none, one or two. */
export function romeInstantsOf(local: LocalDateTime): Date[] {
  const asUtc = Date.UTC(
    local.year,
    local.month - 1,
    local.day,
    local.hour,
    local.minute,
    local.second,
  );
  const found: Date[] = [];
  for (const offset of [120, 60]) {
    const candidate = new Date(asUtc - offset * 60_000);
    if (romeOffsetMinutes(candidate) === offset) found.push(candidate);
  }
  return found;
}

export interface BreachClock {
  /** awareAt + 72 h, ISO in UTC. */
  deadline: string;
  /** The same instant in Rome's local time with its offset. */
  deadlineLocal: string;
  /** Hours to the deadline (one decimal, rounded down); negative once past. */
  hoursLeft: number;
  /** A notice is owed, none has been sent, and the deadline has passed. */
  overdue: boolean;
  /** Whether a notice to the Garante is owed: false once the Titolare found no risk. */
  notificationDue: boolean;
  /** When the first notice was sent, if it was. */
  notifiedAt: string | null;
  /** The first notice went after the deadline. */
  notifiedLate: boolean;
}

export function notificationDeadline(awareAt: Date): Date {
  return new Date(awareAt.getTime() + notificationHours * hourMs);
}

export function breachClock(input: {
  awareAt: Date;
  now: Date;
  /** The first notice to the Garante, when sent. */
  notifiedAt?: Date | null;
  /** False when the Titolare assessed no risk (seed 002 art. 33 c.1). */
  notificationDue?: boolean;
}): BreachClock {
  const deadline = notificationDeadline(input.awareAt);
  const left = deadline.getTime() - input.now.getTime();
  const due = input.notificationDue !== false;
  const notifiedAt = input.notifiedAt ?? null;
  return {
    deadline: deadline.toISOString(),
    deadlineLocal: formatRome(deadline),
    hoursLeft: Math.floor(left / (hourMs / 10)) / 10,
    overdue: due && !notifiedAt && left < 0,
    notificationDue: due,
    notifiedAt: notifiedAt ? notifiedAt.toISOString() : null,
    notifiedLate: notifiedAt !== null && notifiedAt.getTime() > deadline.getTime(),
  };
}

/** Whether a processor told the ente more than 48 hours after it learned of the breach. */
export function processorLate(processorAwareAt: Date, awareAt: Date): boolean {
  return awareAt.getTime() - processorAwareAt.getTime() > processorNoticeHours * hourMs;
}

/** Whole hours between two instants (rounded down). */
export function hoursBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / hourMs);
}
