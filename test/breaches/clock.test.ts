import { expect } from 'chai';
import {
  breachClock,
  DateTimeInputError,
  formatRome,
  notificationDeadline,
  parseDateTime,
  processorLate,
} from '../../server/breaches/clock.js';

const hour = 3_600_000;

describe('breaches: the 72-hour clock', () => {
  it('counts 72 absolute hours across the change to summer time (29 March 2026)', () => {
    const awareAt = parseDateTime('2026-03-28T23:30');
    expect(awareAt.toISOString()).to.equal('2026-03-28T22:30:00.000Z');
    const deadline = notificationDeadline(awareAt);
    expect(deadline.getTime() - awareAt.getTime()).to.equal(72 * hour);
    expect(deadline.toISOString()).to.equal('2026-03-31T22:30:00.000Z');
    // Rome has moved to CEST: the wall clock reads one hour later than at awareness.
    expect(formatRome(deadline)).to.equal('2026-04-01T00:30:00+02:00');
  });

  it('counts 72 absolute hours across the change to winter time (25 October 2026)', () => {
    const awareAt = parseDateTime('2026-10-24T23:30');
    expect(awareAt.toISOString()).to.equal('2026-10-24T21:30:00.000Z');
    const deadline = notificationDeadline(awareAt);
    expect(deadline.toISOString()).to.equal('2026-10-27T21:30:00.000Z');
    expect(formatRome(deadline)).to.equal('2026-10-27T22:30:00+01:00');
  });

  it('keeps the same wall-clock time on ordinary days, in winter and in summer', () => {
    expect(formatRome(notificationDeadline(parseDateTime('2026-01-12T09:15')))).to.equal(
      '2026-01-15T09:15:00+01:00',
    );
    expect(formatRome(notificationDeadline(parseDateTime('2026-07-01T18:00')))).to.equal(
      '2026-07-04T18:00:00+02:00',
    );
    // An input with its own offset is that instant.
    expect(parseDateTime('2026-07-01T16:00:00Z').getTime()).to.equal(
      parseDateTime('2026-07-01T18:00').getTime(),
    );
  });

  it('refuses local times that do not exist or happen twice', () => {
    expect(() => parseDateTime('2026-03-29T02:30')).to.throw(DateTimeInputError, /inesistente/);
    expect(() => parseDateTime('2026-10-25T02:30')).to.throw(DateTimeInputError, /ambigua/);
    expect(parseDateTime('2026-10-25T02:30+02:00').toISOString()).to.equal(
      '2026-10-25T00:30:00.000Z',
    );
    expect(parseDateTime('2026-10-25T02:30+01:00').toISOString()).to.equal(
      '2026-10-25T01:30:00.000Z',
    );
    expect(() => parseDateTime('2026-02-30T10:00')).to.throw(DateTimeInputError);
    expect(() => parseDateTime('28/03/2026 23:30')).to.throw(DateTimeInputError);
  });

  it('gives the hours left, and overdue only when a notice is owed and not sent', () => {
    const awareAt = new Date('2026-05-04T08:00:00Z');
    const early = breachClock({ awareAt, now: new Date('2026-05-05T08:00:00Z') });
    expect(early.hoursLeft).to.equal(48);
    expect(early.overdue).to.equal(false);
    const late = breachClock({ awareAt, now: new Date('2026-05-07T10:30:00Z') });
    expect(late.hoursLeft).to.equal(-2.5);
    expect(late.overdue).to.equal(true);
    expect(late.deadlineLocal).to.equal('2026-05-07T10:00:00+02:00');
    const noRisk = breachClock({
      awareAt,
      now: new Date('2026-05-08T00:00:00Z'),
      notificationDue: false,
    });
    expect(noRisk.overdue).to.equal(false);
    const notified = breachClock({
      awareAt,
      now: new Date('2026-05-09T00:00:00Z'),
      notifiedAt: new Date('2026-05-07T07:00:00Z'),
    });
    expect(notified.overdue).to.equal(false);
    expect(notified.notifiedLate).to.equal(false);
  });

  it('flags a processor that told the ente after its 48 hours (seed 002 art. 7)', () => {
    const awareAt = new Date('2026-05-04T08:00:00Z');
    expect(processorLate(new Date('2026-05-02T08:00:00Z'), awareAt)).to.equal(false);
    expect(processorLate(new Date('2026-05-02T07:59:00Z'), awareAt)).to.equal(true);
  });
});
