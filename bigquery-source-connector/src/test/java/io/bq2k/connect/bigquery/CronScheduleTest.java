package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CronScheduleTest {

    private static Instant next(String cron, String after) {
        return CronSchedule.parse(cron).next(Instant.parse(after));
    }

    private static void assertNext(String cron, String after, String expected) {
        assertEquals(Instant.parse(expected), next(cron, after), cron + " after " + after);
    }

    @Test
    void everyQuarterHour() {
        assertNext("*/15 * * * *", "2024-03-08T10:07:30Z", "2024-03-08T10:15:00Z");
        assertNext("*/15 * * * *", "2024-03-08T10:15:00Z", "2024-03-08T10:30:00Z");
        assertNext("*/15 * * * *", "2024-03-08T10:14:59.999Z", "2024-03-08T10:15:00Z");
        assertNext("*/15 * * * *", "2024-03-08T10:59:00Z", "2024-03-08T11:00:00Z");
        assertNext("*/15 * * * *", "2024-12-31T23:50:00Z", "2025-01-01T00:00:00Z");
    }

    @Test
    void strictlyAfter() {
        assertNext("* * * * *", "2024-03-08T10:00:00Z", "2024-03-08T10:01:00Z");
        assertNext("* * * * *", "2024-03-08T10:00:59Z", "2024-03-08T10:01:00Z");
    }

    @Test
    void weekdaysAtSixAcrossAWeekend() {
        // 2024-03-08 is a Friday.
        assertEquals(DayOfWeek.FRIDAY, Instant.parse("2024-03-08T00:00:00Z").atZone(ZoneOffset.UTC).getDayOfWeek());
        assertNext("0 6 * * 1-5", "2024-03-08T05:59:00Z", "2024-03-08T06:00:00Z");
        assertNext("0 6 * * 1-5", "2024-03-08T06:00:00Z", "2024-03-11T06:00:00Z");
        assertNext("0 6 * * 1-5", "2024-03-09T12:00:00Z", "2024-03-11T06:00:00Z");
        assertNext("0 6 * * 1-5", "2024-03-10T23:59:00Z", "2024-03-11T06:00:00Z");
        assertNext("0 6 * * 1-5", "2024-03-11T06:01:00Z", "2024-03-12T06:00:00Z");
    }

    @Test
    void dayOfMonthOrDayOfWeekWhenBothRestricted() {
        // '0 0 15 * 1': the 15th OR any Monday. 2024-09-10 is a Tuesday, 15 a Sunday, 16 a Monday.
        assertNext("0 0 15 * 1", "2024-09-10T00:00:00Z", "2024-09-15T00:00:00Z");
        assertNext("0 0 15 * 1", "2024-09-15T00:00:00Z", "2024-09-16T00:00:00Z");
        assertNext("0 0 15 * 1", "2024-09-16T00:00:00Z", "2024-09-23T00:00:00Z");
        // Friday the 13th style: '0 0 13 * 5' fires on Fridays and on every 13th.
        assertNext("0 0 13 * 5", "2024-09-07T00:00:00Z", "2024-09-13T00:00:00Z");
        assertNext("0 0 13 * 5", "2024-10-05T00:00:00Z", "2024-10-11T00:00:00Z");
        assertNext("0 0 13 * 5", "2024-10-11T00:00:00Z", "2024-10-13T00:00:00Z");
    }

    @Test
    void onlyOneDayFieldRestrictedIsAnd() {
        assertNext("0 0 1 * *", "2024-09-02T00:00:00Z", "2024-10-01T00:00:00Z");
        assertNext("0 0 * * 0", "2024-09-16T00:00:00Z", "2024-09-22T00:00:00Z");
        assertNext("0 0 * * 7", "2024-09-16T00:00:00Z", "2024-09-22T00:00:00Z");
    }

    @Test
    void monthRollover() {
        assertNext("30 12 1 * *", "2024-12-15T00:00:00Z", "2025-01-01T12:30:00Z");
        assertNext("0 0 31 * *", "2024-04-01T00:00:00Z", "2024-05-31T00:00:00Z");
        assertNext("0 0 * 2 *", "2024-03-01T00:00:00Z", "2025-02-01T00:00:00Z");
        assertNext("59 23 31 12 *", "2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z");
        assertNext("0 0 1 1,7 *", "2024-01-01T00:00:00Z", "2024-07-01T00:00:00Z");
    }

    @Test
    void february29() {
        assertNext("0 0 29 2 *", "2024-02-28T12:00:00Z", "2024-02-29T00:00:00Z");
        assertNext("0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z");
        assertNext("0 0 29 2 *", "2024-02-29T00:00:00Z", "2028-02-29T00:00:00Z");
    }

    @Test
    void listsRangesAndSteps() {
        assertNext("5,35 */6 * * *", "2024-03-08T06:10:00Z", "2024-03-08T06:35:00Z");
        assertNext("5,35 */6 * * *", "2024-03-08T06:35:00Z", "2024-03-08T12:05:00Z");
        assertNext("0 9-17/4 * * *", "2024-03-08T09:00:00Z", "2024-03-08T13:00:00Z");
        assertNext("0 9-17/4 * * *", "2024-03-08T17:00:00Z", "2024-03-09T09:00:00Z");
        assertNext("10/20 * * * *", "2024-03-08T09:31:00Z", "2024-03-08T09:50:00Z");
        assertNext("10/20 * * * *", "2024-03-08T09:50:00Z", "2024-03-08T10:10:00Z");
    }

    @Test
    void neverFiring() {
        CronSchedule s = CronSchedule.parse("0 0 30 2 *");
        assertThrows(IllegalStateException.class, () -> s.next(Instant.parse("2024-01-01T00:00:00Z")));
    }

    @Test
    void wrongFieldCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CronSchedule.parse("* * * * * *"));
        assertTrue(e.getMessage().contains("has 6"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CronSchedule.parse(""));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "60 * * * *|minute|60 is outside 0-59",
        "-1 * * * *|minute|not valid",
        "*/0 * * * *|minute|0 is outside 1-59",
        "a * * * *|minute|not valid",
        "* 24 * * *|hour|24 is outside 0-23",
        "* 3-1 * * *|hour|not valid",
        "* * 0 * *|day-of-month|0 is outside 1-31",
        "* * 1-32 * *|day-of-month|32 is outside 1-31",
        "* * * 13 *|month|13 is outside 1-12",
        "* * * * 8|day-of-week|8 is outside 0-7",
        "* * * * SUN|day-of-week|not valid",
        "* * * * 1,,2|day-of-week|not valid",
    })
    void fieldErrorsNameTheField(String cron, String field, String detail) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CronSchedule.parse(cron));
        assertTrue(e.getMessage().startsWith("Cron " + field + " field"), e.getMessage());
        assertTrue(e.getMessage().contains(detail), e.getMessage());
    }
}
