/* The body stamp search of the compiled text module (gateway/inspect/text/scorer.py's
 * stamp_line_starts and stamp_line_starts_utf8; _scorer.c puts them in its module). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

PyObject *stamp_line_starts(PyObject *module, PyObject *arg);
PyObject *stamp_line_starts_utf8(PyObject *module, PyObject *arg);

/* Append a line start to out unless it is the one put out last (-1: an error is set). */
static int
put_start(PyObject *out, Py_ssize_t start, Py_ssize_t *last)
{
    if (start == *last)
        return 0;
    PyObject *v = PyLong_FromSsize_t(start);
    if (v == NULL)
        return -1;
    int r = PyList_Append(out, v);
    Py_DECREF(v);
    *last = start;
    return r;
}

/* stamp_line_starts(text): where the lines start that hold a match of one of the body stamp
 * search's patterns (gateway/inspect/text/message.py, _STAMP_PATTERNS), in order, each once;
 * the same list as that module's _stamp_line_starts(text, 0), in one pass over the code
 * points instead of one regex search per pattern:
 *
 *   M(?:Ậ|[AẠÂ][\u0300-\u036f]*)T
 *   [Đđ](?:[Ộộ]|[oOỌọÔô][\u0300-\u036f]+)\s+[mM]      (\s: Py_UNICODE_ISSPACE, as in re)
 *
 * Every match is looked for at every start (no match hides another of its own pattern: each
 * ends with a character none of them starts with), and the greedy runs need no backtracking:
 * the character that ends each run (T, white space, m or M) is never in the run. */

#define IS_MARK(c) ((c) >= 0x300 && (c) <= 0x36F)

static int
level_at(int kind, const void *d, Py_ssize_t n, Py_ssize_t j)  /* after the M */
{
    if (j >= n)
        return 0;
    Py_UCS4 c = PyUnicode_READ(kind, d, j);
    if (c == 0x1EAC)  /* Ậ */
        return j + 1 < n && PyUnicode_READ(kind, d, j + 1) == 'T';
    if (c != 'A' && c != 0x1EA0 && c != 0xC2)  /* A Ạ Â */
        return 0;
    for (j++; j < n && IS_MARK(PyUnicode_READ(kind, d, j)); j++)
        ;
    return j < n && PyUnicode_READ(kind, d, j) == 'T';
}

static int
label_at(int kind, const void *d, Py_ssize_t n, Py_ssize_t j)  /* after the Đ or đ */
{
    if (j >= n)
        return 0;
    Py_UCS4 c = PyUnicode_READ(kind, d, j);
    if (c == 0x1ED8 || c == 0x1ED9)  /* Ộ ộ */
        j++;
    else if (c == 'o' || c == 'O' || c == 0x1ECC || c == 0x1ECD || c == 0xD4 || c == 0xF4) {
        Py_ssize_t k = j + 1;  /* o O Ọ ọ Ô ô, then one combining mark or more */
        while (k < n && IS_MARK(PyUnicode_READ(kind, d, k)))
            k++;
        if (k == j + 1)
            return 0;
        j = k;
    }
    else
        return 0;
    Py_ssize_t k = j;
    while (k < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, d, k)))
        k++;
    if (k == j || k >= n)
        return 0;
    c = PyUnicode_READ(kind, d, k);
    return c == 'm' || c == 'M';
}

/* Whether one of the four 16-bit units of w (in memory order, either byte order) is u: the
 * exact zero-unit test (a borrow only ever runs up from a zero unit). */
static inline int
has_unit(uint64_t w, uint16_t u)
{
    uint64_t x = w ^ (0x0001000100010001ULL * u);
    return ((x - 0x0001000100010001ULL) & ~x & 0x8000800080008000ULL) != 0;
}

PyObject *
stamp_line_starts(PyObject *Py_UNUSED(module), PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "stamp_line_starts() takes str, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0)
        return NULL;
    int kind = PyUnicode_KIND(arg);
    const void *d = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_ssize_t seen = 0;      /* the last match (0: none yet) */
    Py_ssize_t start = 0;     /* the start of the line holding it */
    Py_ssize_t last = -1;     /* the last line start put out */
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c;
        /* the first letters, code unit by code unit in the text's own width */
        switch (kind) {
        case PyUnicode_1BYTE_KIND: {  /* no Đ or đ in a one-byte text */
            const Py_UCS1 *u = d;
            const void *at = memchr(u + i, 'M', (size_t)(n - i));
            i = at == NULL ? n : (const Py_UCS1 *)at - u;
            break;
        }
        case PyUnicode_2BYTE_KIND: {
            const Py_UCS2 *u = d;
            /* four code units at a time: none of them is one of the three letters */
            for (; i + 4 <= n; i += 4) {
                uint64_t w;
                memcpy(&w, u + i, 8);
                if (!(has_unit(w, 'M') | has_unit(w, 0x110) | has_unit(w, 0x111)))
                    continue;
                break;
            }
            while (i < n && u[i] != 'M' && u[i] != 0x110 && u[i] != 0x111)
                i++;
            break;
        }
        default: {
            const Py_UCS4 *u = d;
            while (i < n && u[i] != 'M' && u[i] != 0x110 && u[i] != 0x111)
                i++;
            break;
        }
        }
        if (i >= n)
            break;
        c = PyUnicode_READ(kind, d, i);
        if (!(c == 'M' ? level_at(kind, d, n, i + 1) : label_at(kind, d, n, i + 1)))
            continue;
        for (Py_ssize_t k = i; k > seen; k--)  /* back to the nearest line end, if any */
            if (PyUnicode_READ(kind, d, k - 1) == '\n') {
                start = k;
                break;
            }
        seen = i;
        if (put_start(out, start, &last) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

/* stamp_line_starts_utf8(data): the same search over UTF-8 bytes (valid UTF-8: a caller
 * that does not know it has the str); the line starts are byte offsets. A byte sequence
 * that is not a whole code point never matches. */

static int
cp_at(const unsigned char *p, const unsigned char *end, Py_UCS4 *cp)  /* its length, or 0 */
{
    if (p >= end)
        return 0;
    unsigned char b = p[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    int n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    if (n == 0 || end - p < n)
        return 0;
    Py_UCS4 c = b & (0x3F >> (n - 1));
    for (int k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[k] & 0x3F);
    }
    *cp = c;
    return n;
}

static int
level_at_utf8(const unsigned char *p, const unsigned char *end)  /* after the M */
{
    Py_UCS4 c;
    int k = cp_at(p, end, &c);
    if (k == 0)
        return 0;
    p += k;
    if (c == 0x1EAC)
        return p < end && *p == 'T';
    if (c != 'A' && c != 0x1EA0 && c != 0xC2)
        return 0;
    while ((k = cp_at(p, end, &c)) != 0 && IS_MARK(c))
        p += k;
    return p < end && *p == 'T';
}

static int
label_at_utf8(const unsigned char *p, const unsigned char *end)  /* after the Đ or đ */
{
    Py_UCS4 c;
    int k = cp_at(p, end, &c);
    if (k == 0)
        return 0;
    p += k;
    if (c != 0x1ED8 && c != 0x1ED9) {
        if (c != 'o' && c != 'O' && c != 0x1ECC && c != 0x1ECD && c != 0xD4 && c != 0xF4)
            return 0;
        int marks = 0;
        while ((k = cp_at(p, end, &c)) != 0 && IS_MARK(c)) {
            p += k;
            marks++;
        }
        if (!marks)
            return 0;
    }
    int spaces = 0;
    while ((k = cp_at(p, end, &c)) != 0 && Py_UNICODE_ISSPACE(c)) {
        p += k;
        spaces++;
    }
    return spaces && p < end && (*p == 'm' || *p == 'M');
}

/* Whether one of the eight bytes of w is u (exact, as has_unit). */
static inline int
has_byte(uint64_t w, unsigned char u)
{
    uint64_t x = w ^ (0x0101010101010101ULL * u);
    return ((x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL) != 0;
}

PyObject *
stamp_line_starts_utf8(PyObject *Py_UNUSED(module), PyObject *arg)
{
    if (!PyBytes_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "stamp_line_starts_utf8() takes bytes, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    const unsigned char *d = (const unsigned char *)PyBytes_AS_STRING(arg);
    Py_ssize_t n = PyBytes_GET_SIZE(arg);
    const unsigned char *end = d + n;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_ssize_t seen = 0, start = 0, last = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        /* M, or C4 (the first byte of Đ and đ), eight bytes at a time */
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            memcpy(&w, d + i, 8);
            if (has_byte(w, 'M') | has_byte(w, 0xC4))
                break;
        }
        while (i < n && d[i] != 'M' && d[i] != 0xC4)
            i++;
        if (i >= n)
            break;
        int hit;
        if (d[i] == 'M')
            hit = level_at_utf8(d + i + 1, end);
        else
            hit = i + 1 < n && (d[i + 1] == 0x90 || d[i + 1] == 0x91)
                  && label_at_utf8(d + i + 2, end);
        if (!hit)
            continue;
        for (Py_ssize_t k = i; k > seen; k--)
            if (d[k - 1] == '\n') {
                start = k;
                break;
            }
        seen = i;
        if (put_start(out, start, &last) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}
