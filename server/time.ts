// Durations, named once: `windowHours * HOUR_MS` says what `windowHours * 3_600_000` hides, and a
// dropped zero cannot hide in it. Milliseconds for Date arithmetic and timers, seconds for TTLs and
// HTTP headers, which count in seconds (RFC 8030 §5.2, RFC 9111 §1.2.2).

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export const MINUTE_SECONDS = 60;
export const HOUR_SECONDS = 60 * MINUTE_SECONDS;
export const DAY_SECONDS = 24 * HOUR_SECONDS;
