/* SPDX-License-Identifier: MIT */
/* Text from outside (user and host names, displays, process names, what
 * logind and systemd say) made safe to show: valid UTF-8 with nothing a
 * terminal would act on.  Every byte that is not part of a valid UTF-8
 * sequence, and every character that is a control (C0, DEL, C1), that
 * reorders text (the bidirectional controls and marks) or that breaks a
 * line (U+2028, U+2029), is written as \xNN per byte, and so is the
 * backslash itself, so that nothing else can look like such an escape.
 * This is done once, where the text enters. */
#include "text.h"

#include "util.h"

/* The code point of the valid UTF-8 sequence at s (len bytes left), and its
 * length; 0 when the bytes there are not one (overlong forms, surrogates
 * and values past U+10FFFF are not). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *ret) {
        if (s[0] < 0x80) {
                *ret = s[0];
                return 1;
        }
        size_t n;
        uint32_t c, min;
        if ((s[0] & 0xe0) == 0xc0) {
                n = 2, c = s[0] & 0x1f, min = 0x80;
        } else if ((s[0] & 0xf0) == 0xe0) {
                n = 3, c = s[0] & 0x0f, min = 0x800;
        } else if ((s[0] & 0xf8) == 0xf0) {
                n = 4, c = s[0] & 0x07, min = 0x10000;
        } else
                return 0;
        if (len < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *ret = c;
        return n;
}

/* U+061C (ARABIC LETTER MARK) steers bidirectional text as U+200E/U+200F
 * do; U+2028/U+2029 (LINE and PARAGRAPH SEPARATOR) break the line in
 * editors and viewers, and end a string literal for a JSON reader that is
 * JavaScript before ES2019: a name may do neither. */
static bool must_escape(uint32_t c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\\' || c == 0x061c || c == 0x200e || c == 0x200f ||
               c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

char *text_clean_n(const char *s, size_t len) {
        /* At worst every byte becomes four. */
        char *out = malloc(len * 4 + 1);
        if (!out)
                return NULL;
        const unsigned char *p = (const unsigned char *) s;
        size_t o = 0;
        for (size_t i = 0; i < len;) {
                uint32_t c;
                size_t n = utf8_decode(p + i, len - i, &c);
                if (n == 0 || must_escape(c)) {
                        size_t bad = n ? n : 1;
                        for (size_t k = 0; k < bad; k++)
                                o += (size_t) sprintf(out + o, "\\x%02x", p[i + k]);
                        i += bad;
                        continue;
                }
                memcpy(out + o, p + i, n);
                o += n;
                i += n;
        }
        out[o] = '\0';
        return out;
}

bool text_is_valid_utf8(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        size_t len = strlen(s);
        for (size_t i = 0; i < len;) {
                uint32_t c;
                size_t n = utf8_decode(p + i, len - i, &c);
                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}

char *text_clean(const char *s) {
        return text_clean_n(s, strlen(s));
}

int text_clean_in_place(char **s) {
        if (!*s)
                return 0;
        char *c = text_clean(*s);
        if (!c)
                return -ENOMEM;
        free(*s);
        *s = c;
        return 0;
}

void text_clean_into(const char *s, size_t len, char *out, size_t size) {
        _cleanup_free_ char *c = text_clean_n(s, len);
        if (!c) {
                snprintf(out, size, "?");
                return;
        }
        /* Cut at a character boundary. */
        size_t n = strlen(c);
        if (n >= size) {
                n = size - 1;
                while (n > 0 && ((unsigned char) c[n] & 0xc0) == 0x80)
                        n--;
                /* Nor through an escape: in clean text every backslash
                 * starts one, four bytes long. */
                for (size_t k = n > 3 ? n - 3 : 0; k < n; k++)
                        if (c[k] == '\\') {
                                n = k;
                                break;
                        }
        }
        memcpy(out, c, n);
        out[n] = '\0';
}

/* Characters two columns wide (East Asian Wide and Fullwidth), and those
 * that take none (combining marks, zero-width), for the ranges that names
 * meet; everything else printable is one. */
struct range {
        uint32_t first, last;
};

static const struct range wide[] = {
        { 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff },
        { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf }, { 0xa960, 0xa97f },
        { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe10, 0xfe19 }, { 0xfe30, 0xfe6f },
        { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f }, { 0x1f900, 0x1f9ff },
        { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
};

static const struct range zero[] = {
        { 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x0610, 0x061a },
        { 0x064b, 0x065f }, { 0x1160, 0x11ff }, { 0x200b, 0x200d }, { 0x20d0, 0x20ff },
        { 0xd7b0, 0xd7ff }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f }, { 0xfeff, 0xfeff },
};

static bool in_ranges(uint32_t c, const struct range *r, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (c >= r[i].first && c <= r[i].last)
                        return true;
        return false;
}

size_t text_width(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        size_t len = strlen(s), w = 0;
        for (size_t i = 0; i < len;) {
                uint32_t c;
                size_t n = utf8_decode(p + i, len - i, &c);
                if (n == 0) {
                        w++; /* not clean text: a byte is at most one column */
                        i++;
                        continue;
                }
                if (in_ranges(c, zero, ARRAY_SIZE(zero)))
                        ;
                else if (in_ranges(c, wide, ARRAY_SIZE(wide)))
                        w += 2;
                else
                        w++;
                i += n;
        }
        return w;
}
