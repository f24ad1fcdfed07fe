package io.bq2k.connect.bigquery;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;

/**
 * A 5-field cron expression (minute hour day-of-month month day-of-week) evaluated in UTC.
 * Fields take '*', numbers, ranges 'a-b', steps '/n' and lists 'a,b'; day-of-week 0 or 7 is
 * Sunday. As in Vixie cron, when both day fields are restricted a day matching either fires.
 */
public final class CronSchedule {

    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet daysOfMonth;
    private final BitSet months;
    private final BitSet daysOfWeek;
    private final boolean dayOfMonthRestricted;
    private final boolean dayOfWeekRestricted;

    private CronSchedule(String[] f) {
        minutes = field(f[0], 0, 59, "minute");
        hours = field(f[1], 0, 23, "hour");
        daysOfMonth = field(f[2], 1, 31, "day-of-month");
        months = field(f[3], 1, 12, "month");
        daysOfWeek = field(f[4], 0, 7, "day-of-week");
        if (daysOfWeek.get(7)) {
            daysOfWeek.set(0);
        }
        dayOfMonthRestricted = !f[2].equals("*");
        dayOfWeekRestricted = !f[4].equals("*");
    }

    /** Parses an expression; IllegalArgumentException names the bad field. */
    public static CronSchedule parse(String expression) {
        String[] fields = expression.trim().split("\\s+");
        if (fields.length != 5) {
            throw new IllegalArgumentException("A cron expression has 5 fields (minute hour day-of-month month day-of-week), '"
                + expression + "' has " + fields.length + ". Example: '*/15 * * * *'.");
        }
        return new CronSchedule(fields);
    }

    /** The first matching minute strictly after {@code after}. */
    public Instant next(Instant after) {
        ZonedDateTime t = after.atZone(ZoneOffset.UTC).truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        ZonedDateTime limit = t.plusYears(5);
        while (t.isBefore(limit)) {
            if (!months.get(t.getMonthValue())) {
                t = t.withDayOfMonth(1).withHour(0).withMinute(0).plusMonths(1);
            } else if (!dayMatches(t)) {
                t = t.withHour(0).withMinute(0).plusDays(1);
            } else if (!hours.get(t.getHour())) {
                t = t.withMinute(0).plusHours(1);
            } else if (!minutes.get(t.getMinute())) {
                t = t.plusMinutes(1);
            } else {
                return t.toInstant();
            }
        }
        throw new IllegalStateException("cron expression never fires");
    }

    private boolean dayMatches(ZonedDateTime t) {
        boolean dom = daysOfMonth.get(t.getDayOfMonth());
        boolean dow = daysOfWeek.get(t.getDayOfWeek().getValue() % 7);
        if (dayOfMonthRestricted && dayOfWeekRestricted) {
            return dom || dow;
        }
        return dom && dow;
    }

    private static BitSet field(String text, int min, int max, String name) {
        BitSet bits = new BitSet(max + 1);
        for (String part : text.split(",", -1)) {
            String range = part;
            int step = 1;
            int slash = part.indexOf('/');
            if (slash >= 0) {
                range = part.substring(0, slash);
                step = number(part.substring(slash + 1), 1, max, name, text);
            }
            int lo;
            int hi;
            if (range.equals("*")) {
                lo = min;
                hi = max;
            } else if (range.contains("-")) {
                String[] ends = range.split("-", -1);
                if (ends.length != 2) {
                    throw bad(name, text);
                }
                lo = number(ends[0], min, max, name, text);
                hi = number(ends[1], min, max, name, text);
                if (lo > hi) {
                    throw bad(name, text);
                }
            } else {
                lo = number(range, min, max, name, text);
                hi = slash >= 0 ? max : lo;
            }
            for (int v = lo; v <= hi; v += step) {
                bits.set(v);
            }
        }
        return bits;
    }

    private static int number(String s, int min, int max, String name, String text) {
        try {
            int v = Integer.parseInt(s);
            if (v < min || v > max) {
                throw new IllegalArgumentException("Cron " + name + " field '" + text + "': " + v + " is outside " + min + "-" + max + ".");
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(name, text);
        }
    }

    private static IllegalArgumentException bad(String name, String text) {
        return new IllegalArgumentException("Cron " + name + " field '" + text
            + "' is not valid: use '*', a number, a range 'a-b', a step '*/n' or a list 'a,b'.");
    }
}
