/* SPDX-License-Identifier: MIT */
/* lotus_units.c -- FIL / size / duration texts as lotus prints them, both ways (lotus_units.h).
 *
 * DESIGN: FIL amounts are never floating point. A printed amount is a decimal number with a unit
 * of 10^(18-3k) attoFIL, so the exact attoFIL integer is "integer digits + fraction digits padded
 * to the unit's exponent": plain string work, any size. Formatting (FIL.Short) is the reverse:
 * pick the unit from the number of digits, cut, round the dropped digits half away from zero.
 * Sizes are 3-4 significant digits times 1024^k: 128 bits hold every exact expansion. They are
 * the u128 below, four 32-bit limbs, not unsigned __int128, which 32-bit targets (armhf) lack;
 * one implementation on every target, so the x86 tests and fuzzers check what ARM runs.
 */
#include "lotus_units.h"

#include <stdio.h>
#include <string.h>

#include "edgefleet/error.h"

/* ---- 128-bit unsigned integers: just what sizes and durations need ---------------------- */

typedef struct {
  uint32_t w[4]; /* least significant first */
} u128;

static u128 u128_of(uint64_t v) { return (u128){{(uint32_t)v, (uint32_t)(v >> 32), 0, 0}}; }

static u128 u128_pow2(int k) { /* 0 <= k < 128 */
  u128 r = {{0}};
  r.w[k / 32] = (uint32_t)1 << (k % 32);
  return r;
}

static bool u128_is_zero(u128 a) { return !(a.w[0] | a.w[1] | a.w[2] | a.w[3]); }
static bool u128_fits_u64(u128 a) { return !(a.w[2] | a.w[3]); }
static uint64_t u128_low64(u128 a) { return (uint64_t)a.w[1] << 32 | a.w[0]; }

static bool u128_gt(u128 a, u128 b) {
  for (int i = 3; i >= 0; i--)
    if (a.w[i] != b.w[i]) return a.w[i] > b.w[i];
  return false;
}

static u128 u128_add(u128 a, u128 b) { /* modulo 2^128; callers stay below it */
  uint64_t c = 0;
  for (int i = 0; i < 4; i++) {
    c += (uint64_t)a.w[i] + b.w[i];
    a.w[i] = (uint32_t)c;
    c >>= 32;
  }
  return a;
}

/* a * m for m < 2^32 (modulo 2^128; callers check their bounds first). */
static u128 u128_mul32(u128 a, uint32_t m) {
  uint64_t c = 0;
  for (int i = 0; i < 4; i++) {
    c += (uint64_t)a.w[i] * m;
    a.w[i] = (uint32_t)c;
    c >>= 32;
  }
  return a;
}

/* The exact product of two uint64. */
static u128 u128_mul64(uint64_t a, uint64_t b) {
  u128 r = u128_mul32(u128_of(a), (uint32_t)b);
  u128 h = u128_mul32(u128_of(a), (uint32_t)(b >> 32)); /* times 2^32: one limb up */
  return u128_add(r, (u128){{0, h.w[0], h.w[1], h.w[2]}});
}

/* *a /= d, returning *a % d; 0 < d < 2^63. */
static uint64_t u128_divmod(u128 *a, uint64_t d) {
  uint64_t r = 0;
  if (d <= UINT32_MAX) { /* a limb at a time: r < d < 2^32, so (r << 32 | limb) fits */
    for (int i = 3; i >= 0; i--) {
      uint64_t t = r << 32 | a->w[i];
      a->w[i] = (uint32_t)(t / d);
      r = t % d;
    }
    return r;
  }
  for (int bit = 127; bit >= 0; bit--) { /* a bit at a time: r < d < 2^63, so r << 1 fits */
    r = r << 1 | (a->w[bit / 32] >> (bit % 32) & 1);
    a->w[bit / 32] &= ~((uint32_t)1 << (bit % 32));
    if (r >= d) {
      r -= d;
      a->w[bit / 32] |= (uint32_t)1 << (bit % 32);
    }
  }
  return r;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static void trim(const char **s, size_t *n) {
  while (*n && is_space(**s)) (*s)++, (*n)--;
  while (*n && is_space((*s)[*n - 1])) (*n)--;
}

static int put(char *out, size_t cap, const char *s, size_t n) {
  if (n + 1 > cap) {
    if (cap) out[0] = '\0';
    return EF_ETOOBIG;
  }
  memcpy(out, s, n);
  out[n] = '\0';
  return 0;
}

static int fail(char *out, size_t cap, int err) {
  if (out && cap) out[0] = '\0';
  return err;
}

/* ---- FIL ---------------------------------------------------------------------------------- */

/* FIL unit prefixes by power of 1000 above attoFIL; index 6 is plain FIL. */
static const char *const fil_prefix[7] = {"a", "f", "p", "n", "\xce\xbc", "m", ""};

/* The attoFIL exponent of a unit text (after the number), or -1. Empty = FIL (v0.4.0). */
static int fil_unit_exp(const char *u, size_t n) {
  if (n == 0) return 18;
  if (n < 3 || memcmp(u + n - 3, "FIL", 3) != 0) return -1;
  size_t pn = n - 3;
  if (pn == 0) return 18;
  for (int k = 0; k < 6; k++) {
    if (strlen(fil_prefix[k]) == pn && memcmp(u, fil_prefix[k], pn) == 0) return 3 * k;
  }
  if (pn == 1 && u[0] == 'u') return 12;                      /* ASCII stand-in for μ */
  if (pn == 2 && (unsigned char)u[0] == 0xc2 && (unsigned char)u[1] == 0xb5) return 12; /* µ */
  if (pn == 4 && memcmp(u, "atto", 4) == 0) return 0;
  return -1;
}

int ef_lotus_fil_to_atto(const char *text, size_t len, char *atto, size_t cap,
                         bool *maybe_rounded) {
  if (maybe_rounded) *maybe_rounded = false;
  if (!text || !atto) return fail(atto, cap, EF_EINVAL);
  trim(&text, &len);
  size_t i = 0;
  bool neg = false;
  if (i < len && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  size_t int_at = i;
  while (i < len && is_digit(text[i])) i++;
  size_t int_n = i - int_at, frac_at = i, frac_n = 0;
  if (i < len && text[i] == '.') {
    frac_at = ++i;
    while (i < len && is_digit(text[i])) i++;
    frac_n = i - frac_at;
  }
  if (int_n + frac_n == 0) return fail(atto, cap, EF_EPARSE);
  size_t unit_at = i;
  while (unit_at < len && is_space(text[unit_at])) unit_at++;
  if (unit_at == i && unit_at < len) return fail(atto, cap, EF_EPARSE); /* "12x" */
  int exp = fil_unit_exp(text + unit_at, len - unit_at);
  if (exp < 0) return fail(atto, cap, EF_EPARSE);
  /* Fraction digits beyond the unit's exponent must be zeros (an atto amount is an integer). */
  size_t keep = frac_n;
  while (keep > (size_t)exp) {
    if (text[frac_at + keep - 1] != '0') return fail(atto, cap, EF_EPARSE);
    keep--;
  }
  if (int_n > EF_LOTUS_ATTO_MAX - 24) return fail(atto, cap, EF_ETOOBIG);
  char digits[EF_LOTUS_ATTO_MAX + 24];
  size_t d = 0;
  memcpy(digits, text + int_at, int_n);
  d = int_n;
  memcpy(digits + d, text + frac_at, keep);
  d += keep;
  for (size_t z = keep; z < (size_t)exp; z++) digits[d++] = '0';
  size_t lead = 0;
  while (lead + 1 < d && digits[lead] == '0') lead++;
  bool zero = d == 0 || (d - lead == 1 && digits[lead] == '0');
  char buf[EF_LOTUS_ATTO_MAX + 26];
  size_t b = 0;
  if (neg && !zero) buf[b++] = '-';
  if (d == 0) {
    buf[b++] = '0';
  } else {
    memcpy(buf + b, digits + lead, d - lead);
    b += d - lead;
  }
  if (maybe_rounded) *maybe_rounded = unit_at < len && exp != 0 && frac_n <= 3 && !zero;
  return put(atto, cap, buf, b);
}

/* Split "[-]digits" into sign and digits without leading zeros ("0" for zero). */
static int atto_digits(const char *atto, bool *neg, const char **dig, size_t *n) {
  if (!atto) return EF_EINVAL;
  size_t len = strlen(atto);
  const char *s = atto;
  trim(&s, &len);
  *neg = false;
  if (len && (*s == '-' || *s == '+')) *neg = *s == '-', s++, len--;
  if (len == 0 || len > EF_LOTUS_ATTO_MAX - 2) return len ? EF_ETOOBIG : EF_EPARSE;
  for (size_t i = 0; i < len; i++)
    if (!is_digit(s[i])) return EF_EPARSE;
  while (len > 1 && *s == '0') s++, len--;
  if (len == 1 && *s == '0') *neg = false;
  *dig = s;
  *n = len;
  return 0;
}

int ef_lotus_fil_short(const char *atto, char *out, size_t cap) {
  bool neg;
  const char *dig;
  size_t n;
  int rc = atto_digits(atto, &neg, &dig, &n);
  if (rc) return fail(out, cap, rc);
  if (n == 1 && dig[0] == '0') return put(out, cap, "0", 1);
  size_t k = (n - 1) / 3;
  if (k > 6) k = 6;
  size_t shift = 3 * k; /* digits after the decimal point in this unit */
  /* whole = integer part, frac = first 3 decimals (padded), then round on the 4th decimal. */
  char num[EF_LOTUS_ATTO_MAX + 8];
  size_t whole_n = n - shift;
  memcpy(num, dig, whole_n);
  for (size_t j = 0; j < 3; j++) num[whole_n + j] = j < shift ? dig[whole_n + j] : '0';
  size_t num_n = whole_n + 3;
  if (shift > 3 && dig[whole_n + 3] >= '5') {
    size_t j = num_n;
    while (j > 0) {
      if (num[j - 1] == '9') {
        num[--j] = '0';
        continue;
      }
      num[j - 1]++;
      break;
    }
    if (j == 0) { /* carried out of the top digit: 999.9995 -> 1000.000 */
      memmove(num + 1, num, num_n);
      num[0] = '1';
      num_n++, whole_n++;
    }
  }
  size_t frac_n = 3;
  while (frac_n && num[whole_n + frac_n - 1] == '0') frac_n--;
  char buf[EF_LOTUS_FIL_MAX];
  int w = snprintf(buf, sizeof buf, "%s%.*s%s%.*s %sFIL", neg ? "-" : "", (int)whole_n, num,
                   frac_n ? "." : "", (int)frac_n, num + whole_n, fil_prefix[k]);
  if (w < 0 || (size_t)w >= sizeof buf) return fail(out, cap, EF_ETOOBIG);
  return put(out, cap, buf, (size_t)w);
}

int ef_lotus_fil_string(const char *atto, char *out, size_t cap) {
  bool neg;
  const char *dig;
  size_t n;
  int rc = atto_digits(atto, &neg, &dig, &n);
  if (rc) return fail(out, cap, rc);
  if (n == 1 && dig[0] == '0') return put(out, cap, "0 FIL", 5);
  char frac[18];
  size_t whole_n = n > 18 ? n - 18 : 0;
  for (size_t j = 0; j < 18; j++) {
    size_t pos_from_right = 18 - j; /* 18 .. 1 */
    frac[j] = pos_from_right <= n ? dig[n - pos_from_right] : '0';
  }
  size_t frac_n = 18;
  while (frac_n && frac[frac_n - 1] == '0') frac_n--;
  char buf[EF_LOTUS_FIL_MAX];
  int w = snprintf(buf, sizeof buf, "%s%.*s%s%.*s FIL", neg ? "-" : "", (int)(whole_n ? whole_n : 1),
                   whole_n ? dig : "0", frac_n ? "." : "", (int)frac_n, frac);
  if (w < 0 || (size_t)w >= sizeof buf) return fail(out, cap, EF_ETOOBIG);
  return put(out, cap, buf, (size_t)w);
}

/* ---- sizes -------------------------------------------------------------------------------- */

static const char *const size_unit[8] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"};

/* The power of 1024 of a size unit ("", "B", "Ki", "KiB", ... "Zi", "ZiB"), or -1. */
static int size_unit_pow(const char *u, size_t n) {
  if (n == 0 || (n == 1 && u[0] == 'B')) return 0;
  static const char letters[] = "KMGTPEZ";
  if (n < 2 || n > 3 || u[1] != 'i' || (n == 3 && u[2] != 'B')) return -1;
  const char *p = memchr(letters, u[0], sizeof letters - 1);
  return p ? (int)(p - letters) + 1 : -1;
}

static int u128_to_dec(u128 v, char *out, size_t cap) {
  char buf[48];
  size_t i = sizeof buf;
  do {
    buf[--i] = (char)('0' + (int)u128_divmod(&v, 10));
  } while (!u128_is_zero(v));
  return put(out, cap, buf + i, sizeof buf - i);
}

/* The exact byte count of a size text, rounded to the nearest byte. */
static int size_parse(const char *text, size_t len, u128 *out) {
  if (!text) return EF_EINVAL;
  trim(&text, &len);
  size_t i = 0;
  uint64_t mant = 0; /* at most 18 significant digits */
  int sig = 0, frac = 0;
  bool any = false, dot = false;
  for (; i < len; i++) {
    char c = text[i];
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (!is_digit(c)) break;
    any = true;
    if (sig == 0 && c == '0' && !dot) continue;
    if (sig >= 18) { /* more precision than any lotus print: drop (integer digits still scale) */
      if (!dot) frac--;
      continue;
    }
    mant = mant * 10 + (uint64_t)(c - '0');
    if (mant) sig++;
    if (dot) frac++;
  }
  if (!any) return EF_EPARSE;
  int exp10 = 0;
  if (i + 1 < len && (text[i] == 'e' || text[i] == 'E')) {
    size_t j = i + 1;
    bool eneg = false;
    if (text[j] == '+' || text[j] == '-') eneg = text[j++] == '-';
    size_t start = j;
    while (j < len && is_digit(text[j]) && exp10 < 1000) exp10 = exp10 * 10 + (text[j++] - '0');
    if (j == start) return EF_EPARSE;
    if (eneg) exp10 = -exp10;
    i = j;
  }
  size_t u = i;
  while (u < len && is_space(text[u])) u++;
  int pw = size_unit_pow(text + u, len - u);
  if (pw < 0) return EF_EPARSE;
  /* value = mant * 1024^pw * 10^(exp10 - frac) */
  u128 v = u128_of(mant);
  u128 max_shift = u128_pow2(117), max_mul = u128_pow2(124);
  u128_divmod(&max_mul, 10);
  for (int k = 0; k < pw; k++) {
    if (u128_gt(v, max_shift)) return EF_ETOOBIG;
    v = u128_mul32(v, 1024);
  }
  int e = exp10 - frac;
  for (; e > 0; e--) {
    if (u128_gt(v, max_mul)) return EF_ETOOBIG;
    v = u128_mul32(v, 10);
  }
  if (e < 0) {
    if (e < -38) {
      v = u128_of(0);
    } else {
      /* v / 10^-e rounded half up: the quotient, plus one when the first dropped digit (the
       * last remainder) is 5 or more. */
      uint64_t digit = 0;
      for (; e < 0; e++) digit = u128_divmod(&v, 10);
      if (digit >= 5) v = u128_add(v, u128_of(1));
    }
  }
  *out = v;
  return 0;
}

int ef_lotus_size_to_bytes(const char *text, size_t len, char *bytes, size_t cap) {
  u128 v;
  int rc = size_parse(text, len, &v);
  if (rc) return fail(bytes, cap, rc);
  return u128_to_dec(v, bytes, cap);
}

int ef_lotus_size_to_u64(const char *text, size_t len, uint64_t *bytes) {
  u128 v;
  int rc = size_parse(text, len, &v);
  if (rc) return rc;
  if (!u128_fits_u64(v)) return EF_ETOOBIG;
  *bytes = u128_low64(v);
  return 0;
}

int ef_lotus_size_str(uint64_t bytes, char *out, size_t cap) {
  /* SizeStr divides a big.Rat by 1024 while its float value is >= 1024, then prints %.4g. */
  double f = (double)bytes;
  int i = 0;
  while (f >= 1024 && i + 1 < 8) {
    f /= 1024;
    i++;
  }
  char buf[48];
  int w = snprintf(buf, sizeof buf, "%.4g %s", f, size_unit[i]);
  if (w < 0 || (size_t)w >= sizeof buf) return fail(out, cap, EF_ETOOBIG);
  return put(out, cap, buf, (size_t)w);
}

/* ---- durations ---------------------------------------------------------------------------- */

#define NS_US 1000LL
#define NS_MS 1000000LL
#define NS_S 1000000000LL

/* Nanoseconds per unit of a duration unit at text[*i], advancing *i; 0 if none. */
static int64_t dur_unit(const char *t, size_t len, size_t *i) {
  size_t r = len - *i;
  const char *u = t + *i;
  static const struct {
    const char *name;
    int64_t ns;
  } units[] = {
      {"ns", 1},          {"us", NS_US},           {"\xc2\xb5s", NS_US}, {"\xce\xbcs", NS_US},
      {"ms", NS_MS},      {"s", NS_S},             {"m", 60 * NS_S},     {"h", 3600 * NS_S},
  };
  for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
    size_t n = strlen(units[k].name);
    if (n <= r && memcmp(u, units[k].name, n) == 0) {
      /* "m" must not swallow the "m" of "ms" (checked earlier in the table). */
      *i += n;
      return units[k].ns;
    }
  }
  return 0;
}

int ef_lotus_duration_parse(const char *text, size_t len, int64_t *ns) {
  if (!text || !ns) return EF_EINVAL;
  trim(&text, &len);
  size_t i = 0;
  bool neg = false;
  if (i < len && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  if (i == len) return EF_EPARSE;
  if (len - i == 1 && text[i] == '0') {
    *ns = 0;
    return 0;
  }
  uint64_t total = 0; /* never above INT64_MAX */
  while (i < len) {
    uint64_t whole = 0, frac = 0, scale = 1;
    size_t start = i;
    while (i < len && is_digit(text[i])) {
      uint64_t d = (uint64_t)(text[i++] - '0');
      if (whole > ((uint64_t)INT64_MAX - d) / 10) return EF_ETOOBIG;
      whole = whole * 10 + d;
    }
    bool had_int = i > start;
    bool had_frac = false;
    if (i < len && text[i] == '.') {
      i++;
      while (i < len && is_digit(text[i])) {
        had_frac = true;
        if (scale < 1000000000000000000ULL) { /* 18 decimals are plenty */
          frac = frac * 10 + (uint64_t)(text[i] - '0');
          scale *= 10;
        }
        i++;
      }
    }
    if (!had_int && !had_frac) return EF_EPARSE;
    int64_t unit = dur_unit(text, len, &i);
    if (!unit) return EF_EPARSE;
    /* total += whole * unit + frac * unit / scale, exactly, stopping above INT64_MAX (the
     * fraction's part is below one unit; frac * unit needs up to 103 bits). */
    if (whole > (uint64_t)INT64_MAX / (uint64_t)unit) return EF_ETOOBIG;
    total += whole * (uint64_t)unit;
    if (total > (uint64_t)INT64_MAX) return EF_ETOOBIG;
    u128 part = u128_mul64(frac, (uint64_t)unit);
    u128_divmod(&part, scale);
    total += u128_low64(part);
    if (total > (uint64_t)INT64_MAX) return EF_ETOOBIG;
  }
  *ns = neg ? -(int64_t)total : (int64_t)total;
  return 0;
}

/* "<v / unit>[.<fraction trimmed>]" for a value below 1000 units of `unit`. */
static int frac_fmt(char *buf, size_t cap, uint64_t v, uint64_t unit, int digits) {
  uint64_t w = v / unit, f = v % unit;
  char fr[24] = "";
  if (f) {
    snprintf(fr, sizeof fr, ".%0*llu", digits, (unsigned long long)f);
    size_t n = strlen(fr);
    while (n > 1 && fr[n - 1] == '0') fr[--n] = '\0';
  }
  return snprintf(buf, cap, "%llu%s", (unsigned long long)w, fr);
}

int ef_lotus_duration_str(int64_t ns, char *out, size_t cap) {
  char buf[64];
  size_t b = 0;
  uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
  if (ns < 0) buf[b++] = '-';
  if (u == 0) return put(out, cap, "0s", 2);
  int w;
  if (u < (uint64_t)NS_S) {
    if (u < (uint64_t)NS_US)
      w = snprintf(buf + b, sizeof buf - b, "%lluns", (unsigned long long)u);
    else if (u < (uint64_t)NS_MS) {
      w = frac_fmt(buf + b, sizeof buf - b, u, NS_US, 3);
      if (w > 0) w += snprintf(buf + b + w, sizeof buf - b - (size_t)w, "\xc2\xb5s");
    } else {
      w = frac_fmt(buf + b, sizeof buf - b, u, NS_MS, 6);
      if (w > 0) w += snprintf(buf + b + w, sizeof buf - b - (size_t)w, "ms");
    }
  } else {
    uint64_t h = u / (3600ULL * NS_S), m = (u / (60ULL * NS_S)) % 60, s = u % (60ULL * NS_S);
    char sec[32];
    frac_fmt(sec, sizeof sec, s, NS_S, 9);
    if (h)
      w = snprintf(buf + b, sizeof buf - b, "%lluh%llum%ss", (unsigned long long)h,
                   (unsigned long long)m, sec);
    else if (m)
      w = snprintf(buf + b, sizeof buf - b, "%llum%ss", (unsigned long long)m, sec);
    else
      w = snprintf(buf + b, sizeof buf - b, "%ss", sec);
  }
  if (w < 0 || (size_t)w >= sizeof buf - b) return fail(out, cap, EF_ETOOBIG);
  return put(out, cap, buf, b + (size_t)w);
}
