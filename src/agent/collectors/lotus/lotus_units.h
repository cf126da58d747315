/* SPDX-License-Identifier: MIT */
/* lotus_units.h -- lotus' value formats, both ways: FIL amounts <-> exact attoFIL integers,
 * byte sizes (SizeStr / DeciStr / go-units) <-> bytes, Go durations <-> nanoseconds.
 *
 * Pure functions: no allocation, no floating point for FIL (decimal string arithmetic), no global
 * state; safe from any thread. Inputs are (pointer, length) and need not be NUL-terminated.
 * Outputs go to caller buffers; every function returns 0 or a negative EF_E* code
 * (EF_EPARSE: the text is not such a value; EF_ETOOBIG: the caller's buffer is too small or the
 * value is out of range) and leaves the output empty ("") on failure.
 */
#ifndef EF_LOTUS_UNITS_H
#define EF_LOTUS_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for any attoFIL integer these functions produce (sign, 60 digits, NUL). */
#define EF_LOTUS_ATTO_MAX 64
/* Room for any FIL text ef_lotus_fil_short()/ef_lotus_fil_string() produce. */
#define EF_LOTUS_FIL_MAX 96

/* Parse a FIL amount as any lotus release prints it: "1234.5 FIL", "244.058 mFIL", "4.5 μFIL"
 * (also "uFIL"), "1.234 nFIL", "152.481 pFIL", "7 fFIL", "-174075296752975308642 aFIL", a bare
 * "0", or a unitless FIL number ("12.5", v0.4.0). Writes the exact attoFIL integer the text
 * denotes ("1234500000000000000000", "-10334000000000000000000", "0") to atto[cap].
 * *maybe_rounded (may be NULL) is set when the text has the shape of a FIL.Short() rendering that
 * may have been rounded: a unit other than aFIL with at most 3 decimals and a non-zero value.
 * Texts with more decimals, aFIL, bare zero and unitless numbers are never rounded. */
int ef_lotus_fil_to_atto(const char *text, size_t len, char *atto, size_t cap,
                         bool *maybe_rounded);

/* Format an attoFIL integer (decimal text, optional leading '-') as lotus' types.FIL.Short()
 * does (v1.4.1+): prefix by magnitude (aFIL fFIL pFIL nFIL μFIL mFIL FIL, μ = U+03BC), three
 * decimals rounded half away from zero, trailing zeros trimmed, zero -> "0" with no unit.
 * 244058000000000000 -> "244.058 mFIL"; 39522000000000000000 -> "39.522 FIL"; -10334e18 ->
 * "-10334 FIL". */
int ef_lotus_fil_short(const char *atto, char *out, size_t cap);

/* Format an attoFIL integer as types.FIL.String() does: exact, up to 18 decimals, trailing zeros
 * trimmed, " FIL" suffix; zero -> "0 FIL". */
int ef_lotus_fil_string(const char *atto, char *out, size_t cap);

/* Parse a size: SizeStr ("32 GiB", "1.5 PiB", "0 B", "1.02e+03 GiB"), DeciStr ("18.8 Pi",
 * "1e+03 Ki", "0 " or "0"), go-units BytesSize ("32GiB"). The printed value is expanded exactly
 * and rounded to the nearest byte (lotus prints 3-4 significant digits, so this is the printed
 * value, not necessarily the true one). Writes the decimal byte count to bytes[cap]. */
int ef_lotus_size_to_bytes(const char *text, size_t len, char *bytes, size_t cap);
/* The same into a uint64 (EF_ETOOBIG above 2^64-1, e.g. network power in ZiB). */
int ef_lotus_size_to_u64(const char *text, size_t len, uint64_t *bytes);

/* Format a byte count as types.SizeStr() does: 1024 steps, "%.4g <unit>", units B KiB MiB GiB
 * TiB PiB EiB ZiB; 0 -> "0 B". */
int ef_lotus_size_str(uint64_t bytes, char *out, size_t cap);

/* Parse a Go time.Duration text ("1h2m3.4s", "17m44.8s", "400ms", "1.5µs", "0s", "-3s") into
 * nanoseconds. EF_EPARSE for anything else ("n/a"), EF_ETOOBIG beyond int64 nanoseconds. */
int ef_lotus_duration_parse(const char *text, size_t len, int64_t *ns);

/* Format nanoseconds as Go's time.Duration.String() does ("1h2m3.4s", "400ms", "0s"). */
int ef_lotus_duration_str(int64_t ns, char *out, size_t cap);

#endif
