/* The compiled token scorer of the text checks (gateway/inspect/text/scorer.py).
 *
 * A Table maps a white-space token (its UTF-8 bytes) to five integer figures. Table.scan()
 * splits bytes on ASCII white space exactly as bytes.split() does (Py_ISSPACE: \t \n \v \f
 * \r and space), sums the figures of the tokens it knows in 64-bit accumulators and returns
 * the tokens it does not know, distinct and with their counts, so that the caller computes
 * their figures (in Python: one definition of a good word) and stores them with add().
 * No Python object is made per known token, and no Python code runs during a scan (the scan
 * holds the GIL from start to end: concurrent callers see a consistent table).
 *
 * The hash is seeded by the caller (a random seed per process), and a hit is confirmed by
 * comparing the bytes: a collision can cost time, never a wrong figure. Probing stops after
 * MAX_PROBE slots (a token not found within them is reported as new, and a new token that
 * finds no free slot within them is not stored), so crafted collisions cannot make a scan
 * quadratic. Tokens longer than MAX_KEY bytes are never stored; the table refuses new
 * entries past max_entries or past max_bytes of keys, and scan() empties it first when it
 * is full.
 *
 * The scan also reports two exact pre-tests of the text checks, from the same bytes (each
 * token's are computed once, when it is stored, from its key bytes, and OR-ed per token):
 * whether every code point lies in SURE_NFC's ranges (a string made only of them is in NFC;
 * tests/unit/test_text_scan_flags.py derives that from unicodedata), and whether the bytes of
 * a UTF-8 mojibake lead and the first byte of its trail occur (C3 82..C3 86: U+00C2..U+00C6,
 * then C2, C5, C6, CB or E2, the lead bytes of the Windows-1252 characters the pattern takes
 * as a trail; C3 A1 C2 BA/BB: U+00E1 U+00BA/U+00BB), which every match of
 * detect._UTF8_MOJIBAKE holds. No match spans white space.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NFIG 5
#define MAX_PROBE 64
#define MAX_KEY 256
#define MIN_SLOTS 1024

/* Token flags: a set bit means "the cheap test could not settle it". */
#define F_NOT_SURE_NFC 1u   /* a code point outside the SURE_NFC ranges (or not UTF-8) */
#define F_MOJIBAKE_BYTES 2u /* the bytes of a UTF-8 mojibake lead and its trail's lead */

/* The flags of a token's bytes. SURE_NFC: U+0000..U+02FF (lead bytes below 0xCC), the
 * Vietnamese precomposed letters U+1EA0..U+1EF9 (E1 BA A0 .. E1 BB B9) and the punctuation
 * U+2010..U+2027 (E2 80 90 .. E2 80 A7). */
static unsigned
token_flags(const unsigned char *p, size_t n)
{
    unsigned f = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = p[i];
        if (b < 0x80)
            continue;
        if (b == 0xC3 && i + 1 < n) {
            unsigned char c = p[i + 1];
            unsigned char d = i + 2 < n ? p[i + 2] : 0;  /* the trail's lead byte */
            if ((c >= 0x82 && c <= 0x86
                 && (d == 0xC2 || d == 0xC5 || d == 0xC6 || d == 0xCB || d == 0xE2))
                    || (c == 0xA1 && i + 3 < n && p[i + 2] == 0xC2
                        && (p[i + 3] == 0xBA || p[i + 3] == 0xBB)))
                f |= F_MOJIBAKE_BYTES;
        }
        if (b >= 0xC2 && b < 0xCC && i + 1 < n && (p[i + 1] & 0xC0) == 0x80) {
            i += 1;
            continue;
        }
        if (b == 0xE1 && i + 2 < n
                && ((p[i + 1] == 0xBA && p[i + 2] >= 0xA0 && p[i + 2] <= 0xBF)
                    || (p[i + 1] == 0xBB && p[i + 2] >= 0x80 && p[i + 2] <= 0xB9))) {
            i += 2;
            continue;
        }
        if (b == 0xE2 && i + 2 < n && p[i + 1] == 0x80 && p[i + 2] >= 0x90 && p[i + 2] <= 0xA7) {
            i += 2;
            continue;
        }
        f |= F_NOT_SURE_NFC;  /* and on byte by byte: the mojibake bytes are still looked for */
    }
    return f;
}

static const unsigned char SPACE[256] = {
    ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1,
};

/* A token is hashed in chunks of 8 bytes from its start (little-endian words; the last
 * chunk holds the remaining bytes, zero-padded), its length mixed in at the end. The scan
 * computes the same hash while it looks for the token's end, a word at a time. */
static inline uint64_t
load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static inline uint64_t
load_tail(const unsigned char *p, size_t n)  /* n < 8 */
{
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

static inline uint64_t
chunk(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9fb21c651e98df25ULL;
    return h ^ (h >> 47);
}

static inline uint64_t
finish(uint64_t h, size_t n)
{
    h ^= (uint64_t)n * 0x9e3779b97f4a7c15ULL;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
}

/* The hash of a key and its first chunk. */
static uint64_t
hash_bytes(const unsigned char *p, size_t n, uint64_t seed, uint64_t *first)
{
    uint64_t h = seed;
    size_t left = n;
    *first = n >= 8 ? load8(p) : load_tail(p, n);
    while (left >= 8) {
        h = chunk(h, load8(p));
        p += 8;
        left -= 8;
    }
    if (left)
        h = chunk(h, load_tail(p, left));
    return finish(h, n);
}

/* Flags (high bit of each byte) at least on the first byte below 0x21 of w, exactly there
 * for the lowest flag; every ASCII white space byte is below 0x21. */
static inline uint64_t
below_21(uint64_t w)
{
    return (w - 0x2121212121212121ULL) & ~w & 0x8080808080808080ULL;
}

static inline int
same_bytes(const unsigned char *a, const unsigned char *b, size_t n)
{
    for (; n >= 8; a += 8, b += 8, n -= 8)
        if (load8(a) != load8(b))
            return 0;
    for (; n; a++, b++, n--)
        if (*a != *b)
            return 0;
    return 1;
}

typedef struct {
    uint64_t hash;
    uint64_t first;     /* the key's first chunk: the whole key up to 8 bytes */
    size_t off;         /* of the key in the arena */
    uint16_t len;       /* at most MAX_KEY */
    uint16_t flags;     /* token_flags() of the key */
    int32_t fig[NFIG];
} Entry;

typedef struct {
    PyObject_HEAD
    uint64_t seed;
    Py_ssize_t max_entries;
    Py_ssize_t max_bytes;
    Entry *entries;
    Py_ssize_t count;
    Py_ssize_t cap;     /* of entries */
    uint32_t *slots;    /* entry index + 1; 0 = free */
    size_t mask;        /* slots - 1 */
    unsigned char *arena;
    size_t arena_len;
    size_t arena_cap;
} Table;

static void
table_free(Table *t)
{
    PyMem_Free(t->entries);
    PyMem_Free(t->slots);
    PyMem_Free(t->arena);
    t->entries = NULL;
    t->slots = NULL;
    t->arena = NULL;
    t->count = t->cap = 0;
    t->mask = 0;
    t->arena_len = t->arena_cap = 0;
}

/* The entry holding the key (compared byte for byte), or -1; *free_slot is where it could go (SIZE_MAX: nowhere
 * within MAX_PROBE slots). */
static inline Py_ssize_t
table_find(const Table *t, const unsigned char *k, size_t n, uint64_t h, uint64_t first,
           size_t *free_slot)
{
    *free_slot = SIZE_MAX;
    if (t->slots == NULL)
        return -1;
    size_t i = (size_t)h & t->mask;
    for (int probe = 0; probe < MAX_PROBE; probe++, i = (i + 1) & t->mask) {
        uint32_t s = t->slots[i];
        if (s == 0) {
            *free_slot = i;
            return -1;
        }
        const Entry *e = &t->entries[s - 1];
        if (e->hash == h && e->len == n && e->first == first
                && (n <= 8 || same_bytes(t->arena + e->off + 8, k + 8, n - 8)))
            return (Py_ssize_t)(s - 1);
    }
    return -1;
}

/* A slot array of nslots (a power of two) for count items of stride bytes, each starting
 * with its uint64_t hash (Entry, New): slot = item index + 1, linear probing. The callers keep
 * the load under one half, so every item finds a free slot. NULL (MemoryError) on failure. */
static uint32_t *
slots_for(const void *items, size_t count, size_t stride, size_t nslots)
{
    uint32_t *slots = PyMem_Calloc(nslots, sizeof(uint32_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    size_t mask = nslots - 1;
    const unsigned char *item = items;
    for (size_t j = 0; j < count; j++, item += stride) {
        uint64_t h;
        memcpy(&h, item, sizeof h);
        size_t i = (size_t)h & mask;
        while (slots[i] != 0)
            i = (i + 1) & mask;
        slots[i] = (uint32_t)(j + 1);
    }
    return slots;
}

static int
table_resize(Table *t, size_t nslots)
{
    uint32_t *slots = slots_for(t->entries, (size_t)t->count, sizeof(Entry), nslots);
    if (slots == NULL)
        return -1;
    PyMem_Free(t->slots);
    t->slots = slots;
    t->mask = nslots - 1;
    return 0;
}

static int
grow(void **buf, size_t *cap, size_t need, size_t item)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *p = PyMem_Realloc(*buf, ncap * item);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *buf = p;
    *cap = ncap;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Tokens new to the table during one scan: distinct (up to the probe bound: a token that
 * finds no slot is listed once more, which only costs its figures a second computation),
 * with their counts; keys point into the scanned bytes. */

typedef struct {
    uint64_t hash;
    Py_ssize_t off;
    Py_ssize_t len;
    Py_ssize_t count;
} New;

typedef struct {
    New *items;
    size_t n;
    size_t cap;
    uint32_t *slots;
    size_t mask;
} NewSet;

_Static_assert(offsetof(Entry, hash) == 0 && offsetof(New, hash) == 0,
               "slots_for() reads an item's hash from its start");

static int
newset_rehash(NewSet *s, size_t nslots)
{
    uint32_t *slots = slots_for(s->items, s->n, sizeof(New), nslots);
    if (slots == NULL)
        return -1;
    PyMem_Free(s->slots);
    s->slots = slots;
    s->mask = nslots - 1;
    return 0;
}

static int
newset_add(NewSet *s, const unsigned char *data, Py_ssize_t off, Py_ssize_t len, uint64_t h)
{
    if (s->slots == NULL || 2 * (s->n + 1) > s->mask + 1) {
        if (newset_rehash(s, s->slots == NULL ? 256 : 2 * (s->mask + 1)) < 0)
            return -1;
    }
    size_t i = (size_t)h & s->mask;
    size_t slot = SIZE_MAX;
    for (int probe = 0; probe < MAX_PROBE; probe++, i = (i + 1) & s->mask) {
        uint32_t k = s->slots[i];
        if (k == 0) {
            slot = i;
            break;
        }
        New *e = &s->items[k - 1];
        if (e->hash == h && e->len == len && memcmp(data + e->off, data + off, len) == 0) {
            e->count++;
            return 0;
        }
    }
    if (grow((void **)&s->items, &s->cap, s->n + 1, sizeof(New)) < 0)
        return -1;
    s->items[s->n] = (New){h, off, len, 1};
    s->n++;
    if (slot != SIZE_MAX)
        s->slots[slot] = (uint32_t)s->n;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */

static PyObject *
Table_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"seed", "max_entries", "max_bytes", NULL};
    unsigned long long seed;
    Py_ssize_t max_entries, max_bytes;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Knn:Table", kwlist, &seed, &max_entries,
                                     &max_bytes))
        return NULL;
    if (max_entries < 0 || max_entries > (Py_ssize_t)(UINT32_MAX / 4) || max_bytes < 0) {
        PyErr_SetString(PyExc_ValueError, "max_entries or max_bytes out of range");
        return NULL;
    }
    Table *t = (Table *)type->tp_alloc(type, 0);
    if (t == NULL)
        return NULL;
    t->seed = (uint64_t)seed;
    t->max_entries = max_entries;
    t->max_bytes = max_bytes;
    return (PyObject *)t;
}

static void
Table_dealloc(Table *t)
{
    table_free(t);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static Py_ssize_t
Table_len(Table *t)
{
    return t->count;
}

static int
as_key(PyObject *o, const unsigned char **k, Py_ssize_t *n)
{
    if (!PyBytes_Check(o)) {
        PyErr_Format(PyExc_TypeError, "a token is bytes, not %.100s", Py_TYPE(o)->tp_name);
        return -1;
    }
    *k = (const unsigned char *)PyBytes_AS_STRING(o);
    *n = PyBytes_GET_SIZE(o);
    return 0;
}

static PyObject *
figures_tuple(const int64_t *v)
{
    PyObject *r = PyTuple_New(NFIG);
    if (r == NULL)
        return NULL;
    for (int i = 0; i < NFIG; i++) {
        PyObject *x = PyLong_FromLongLong(v[i]);
        if (x == NULL) {
            Py_DECREF(r);
            return NULL;
        }
        PyTuple_SET_ITEM(r, i, x);
    }
    return r;
}

static PyObject *
Table_get(Table *t, PyObject *key)
{
    const unsigned char *k;
    Py_ssize_t n;
    size_t free_slot;
    if (as_key(key, &k, &n) < 0)
        return NULL;
    uint64_t first, h = hash_bytes(k, (size_t)n, t->seed, &first);
    Py_ssize_t j = n <= MAX_KEY ? table_find(t, k, (size_t)n, h, first, &free_slot) : -1;
    if (j < 0)
        Py_RETURN_NONE;
    int64_t v[NFIG];
    for (int i = 0; i < NFIG; i++)
        v[i] = t->entries[j].fig[i];
    return figures_tuple(v);
}

static PyObject *
Table_add(Table *t, PyObject *args)
{
    PyObject *key, *figs;
    if (!PyArg_ParseTuple(args, "OO:add", &key, &figs))
        return NULL;
    const unsigned char *k;
    Py_ssize_t n;
    if (as_key(key, &k, &n) < 0)
        return NULL;
    if (!PyTuple_Check(figs) || PyTuple_GET_SIZE(figs) != NFIG) {
        PyErr_SetString(PyExc_TypeError, "figures are a tuple of five integers");
        return NULL;
    }
    int32_t fig[NFIG];
    int fits = 1;
    for (int i = 0; i < NFIG; i++) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(figs, i), &overflow);
        if (x == -1 && PyErr_Occurred())
            return NULL;
        if (overflow || x < INT32_MIN || x > INT32_MAX)
            fits = 0;
        fig[i] = (int32_t)x;
    }
    if (!fits || n > MAX_KEY || t->count >= t->max_entries
            || t->arena_len + (size_t)n > (size_t)t->max_bytes)
        Py_RETURN_FALSE;
    uint64_t first, h = hash_bytes(k, (size_t)n, t->seed, &first);
    size_t slot;
    if (t->slots == NULL || 2 * (size_t)(t->count + 1) > t->mask + 1) {
        if (table_resize(t, t->slots == NULL ? MIN_SLOTS : 2 * (t->mask + 1)) < 0)
            return NULL;
    }
    Py_ssize_t j = table_find(t, k, (size_t)n, h, first, &slot);
    if (j >= 0)  /* added meanwhile by another scan's caller: the same figures */
        Py_RETURN_TRUE;
    if (slot == SIZE_MAX)
        Py_RETURN_FALSE;
    size_t ecap = (size_t)t->cap;
    if (grow((void **)&t->entries, &ecap, (size_t)t->count + 1, sizeof(Entry)) < 0)
        return NULL;
    t->cap = (Py_ssize_t)ecap;
    if (grow((void **)&t->arena, &t->arena_cap, t->arena_len + (size_t)n, 1) < 0)
        return NULL;
    Entry *e = &t->entries[t->count];
    e->hash = h;
    e->first = first;
    e->off = t->arena_len;
    e->len = (uint16_t)n;
    e->flags = (uint16_t)token_flags(k, (size_t)n);
    memcpy(e->fig, fig, sizeof fig);
    if (n)
        memcpy(t->arena + t->arena_len, k, (size_t)n);
    t->arena_len += (size_t)n;
    t->count++;
    t->slots[slot] = (uint32_t)t->count;
    Py_RETURN_TRUE;
}

static PyObject *
Table_clear(Table *t, PyObject *Py_UNUSED(ignored))
{
    table_free(t);
    Py_RETURN_NONE;
}

static PyObject *
new_list(const unsigned char *data, const NewSet *s)
{
    PyObject *out = PyList_New((Py_ssize_t)s->n);
    if (out == NULL)
        return NULL;
    for (size_t j = 0; j < s->n; j++) {
        const New *e = &s->items[j];
        PyObject *item = Py_BuildValue("(y#n)", (const char *)data + e->off, e->len, e->count);
        if (item == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)j, item);
    }
    return out;
}

static PyObject *
Table_scan(Table *t, PyObject *arg)
{
    const unsigned char *data;
    Py_ssize_t size;
    if (!PyBytes_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "scan() takes bytes, not %.100s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    data = (const unsigned char *)PyBytes_AS_STRING(arg);
    size = PyBytes_GET_SIZE(arg);
    if (size > (Py_ssize_t)INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "scan() takes at most 2 GiB");
        return NULL;
    }
    /* full (add() refuses new tokens): start again with the tokens of the texts to come */
    if (t->count >= t->max_entries || t->arena_len + MAX_KEY > (size_t)t->max_bytes)
        table_free(t);

    /* Sums in registers, without overflow checks: fewer than 2**31 tokens (the size is
     * checked above), each figure within 32 bits, so no sum reaches 2**63. */
    int64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    unsigned flags = 0;
    NewSet fresh = {0};
    const unsigned char *p = data, *end = data + size;
    size_t free_slot;
    const uint64_t seed = t->seed;
    while (p < end) {
        if (SPACE[*p]) {
            p++;
            continue;
        }
        /* a token: its bytes up to the next white space, hashed a chunk at a time */
        const unsigned char *s = p;
        uint64_t h = seed, first = 0;
        for (int k = 0;; k++) {
            uint64_t w;
            size_t len = 0;  /* of the token in this chunk */
            if (end - p >= 8) {
                w = load8(p);
                len = 8;
                for (uint64_t m = below_21(w); m; m &= m - 1) {
                    size_t b = (size_t)__builtin_ctzll(m) >> 3;
                    if (SPACE[p[b]]) {
                        len = b;
                        w &= (1ULL << (8 * b)) - 1;
                        break;
                    }
                }
            }
            else {
                while (p + len < end && !SPACE[p[len]])
                    len++;
                w = load_tail(p, len);
            }
            if (len) {
                h = chunk(h, w);
                if (k == 0)
                    first = w;
            }
            p += len;
            if (len < 8)
                break;
        }
        size_t n = (size_t)(p - s);
        h = finish(h, n);
        Py_ssize_t j = n <= MAX_KEY ? table_find(t, s, n, h, first, &free_slot) : -1;
        if (j >= 0) {
            const int32_t *f = t->entries[j].fig;
            flags |= t->entries[j].flags;
            s0 += f[0];
            s1 += f[1];
            s2 += f[2];
            s3 += f[3];
            s4 += f[4];
        }
        else {
            flags |= token_flags(s, n);
            if (newset_add(&fresh, data, s - data, (Py_ssize_t)n, h) < 0)
                goto fail;
        }
    }
    int64_t sum[NFIG] = {s0, s1, s2, s3, s4};
    PyObject *sums = figures_tuple(sum);
    if (sums == NULL)
        goto fail;
    PyObject *news = new_list(data, &fresh);
    if (news == NULL) {
        Py_DECREF(sums);
        goto fail;
    }
    PyMem_Free(fresh.items);
    PyMem_Free(fresh.slots);
    return Py_BuildValue("(NNNN)", sums, news, PyBool_FromLong(!(flags & F_NOT_SURE_NFC)),
                         PyBool_FromLong(!(flags & F_MOJIBAKE_BYTES)));
fail:
    PyMem_Free(fresh.items);
    PyMem_Free(fresh.slots);
    return NULL;
}

/* The stamp search (_stamps.c), a function of this module. */
PyObject *stamp_line_starts(PyObject *module, PyObject *arg);
PyObject *stamp_line_starts_utf8(PyObject *module, PyObject *arg);

static PyMethodDef module_methods[] = {
    {"stamp_line_starts", (PyCFunction)stamp_line_starts, METH_O,
     "stamp_line_starts(text) -> list[int]: where the lines start that hold a match of a "
     "body stamp pattern (see message._stamp_line_starts), in order."},
    {"stamp_line_starts_utf8", (PyCFunction)stamp_line_starts_utf8, METH_O,
     "stamp_line_starts_utf8(data) -> list[int]: stamp_line_starts over valid UTF-8 bytes, "
     "as byte offsets."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef Table_methods[] = {
    {"scan", (PyCFunction)Table_scan, METH_O,
     "scan(data) -> (sums, new, sure_nfc, no_mojibake_bytes): the figures of data's known "
     "tokens summed, its tokens new to the table as (token, count), distinct, whether every "
     "code point is in the surely-NFC ranges, and whether no UTF-8 mojibake lead's bytes "
     "occur."},
    {"add", (PyCFunction)Table_add, METH_VARARGS,
     "add(token, figures) -> bool: store a token's figures (False when not stored)."},
    {"get", (PyCFunction)Table_get, METH_O, "get(token) -> figures or None."},
    {"clear", (PyCFunction)Table_clear, METH_NOARGS, "Empty the table and free its memory."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Table_as_sequence = {
    .sq_length = (lenfunc)Table_len,
};

static PyTypeObject TableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gateway.inspect.text._scorer.Table",
    .tp_doc = PyDoc_STR("Table(seed, max_entries, max_bytes): token -> five figures."),
    .tp_basicsize = sizeof(Table),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Table_new,
    .tp_dealloc = (destructor)Table_dealloc,
    .tp_methods = Table_methods,
    .tp_as_sequence = &Table_as_sequence,
};

static struct PyModuleDef scorer_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gateway.inspect.text._scorer",
    .m_doc = "Compiled token scorer of the text checks (see scorer.py).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__scorer(void)
{
    if (PyType_Ready(&TableType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&scorer_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&TableType);
    if (PyModule_AddObject(m, "Table", (PyObject *)&TableType) < 0) {
        Py_DECREF(&TableType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "MAX_KEY", MAX_KEY) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
