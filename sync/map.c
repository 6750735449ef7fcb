/*
 * sync/map.c -- sync.Map with byte-string keys and word values.
 *
 * Owns: sync_map_t's read snapshot, dirty table and entries. The design
 * is Go's read-mostly one: m->read points to an immutable snapshot (an
 * open-addressing hash table plus an `amended` flag) that readers reach
 * with one atomic load and no lock; m->dirty, under m->mu, holds every
 * live entry of the snapshot plus the keys added since; after as many
 * lookups that had to lock (misses) as dirty has entries, dirty becomes
 * the snapshot as it is (no copy) and the next write builds a new one.
 *
 * May call: sync_mutex_lock/unlock, gc_alloc/gc_store, gc__cas_ptr (the
 * write barrier of a compare-and-swap, gc/internal.h).
 *
 * Invariants:
 *  - A table is immutable once it is reachable from m->read; only the
 *    dirty table (never published while it is dirty) is written.
 *  - An entry is shared by the snapshot and dirty. Its word p is NULL
 *    (deleted; in dirty if there is one), EXPUNGED (deleted and absent
 *    from dirty, which exists) or a box holding the value; boxes are
 *    immutable, so a value is read as *p after one atomic load of p.
 *  - An EXPUNGED entry becomes live again only under m->mu, and is added
 *    to dirty first (unexpunge).
 *  - Every table keeps at least half of its slots empty, so a probe
 *    always ends; deleted dirty slots hold TOMB until the table grows.
 */
#include <string.h>

#include "internal.h"
#include "../gc/internal.h"

typedef struct entry {
    void *p;                       /* NULL, EXPUNGED or a box (atomic) */
    uint64_t hash;
    size_t klen;
    char key[];                    /* copied on store */
} entry_t;

typedef struct {
    uintptr_t mask;                /* slots - 1 (a power of two minus one) */
    uintptr_t used;                /* live slots plus tombstones */
    uintptr_t count;               /* live slots: len(dirty) */
    entry_t *slots[];              /* NULL, TOMB or an entry */
} table_t;

typedef struct {
    table_t *t;                    /* NULL: empty */
    bool amended;                  /* dirty holds keys t lacks */
} readonly_t;

static entry_t tomb_entry, expunged_entry;
#define TOMB     (&tomb_entry)
#define EXPUNGED ((void *)&expunged_entry)

#define MAP_MIN_SLOTS 8

/* FNV-style multiply-xor over 8-byte words, then a 64-bit finaliser. */
static uint64_t key_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0x243f6a8885a308d3ull ^ (len * 0x9e3779b97f4a7c15ull);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++)   /* no call for the tail, as memcpy(len) would be */
        w |= (uint64_t)p[i] << (8 * i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

/* ------------------------------------------------------------------ */
/* tables                                                              */
/* ------------------------------------------------------------------ */

/* An empty table with room for n entries at most half full. */
static table_t *table_new(uintptr_t n)
{
    uintptr_t slots = MAP_MIN_SLOTS;
    while (slots < 2 * n + 2)
        slots <<= 1;
    table_t *t = gc_alloc(sizeof(table_t) + slots * sizeof(entry_t *));
    t->mask = slots - 1;
    return t;
}

/* Whether the n bytes at a and b are equal: inline, for the short keys a
 * map usually has (memcmp would be a call through the PLT). */
static inline bool key_eq(const void *av, const void *bv, size_t n)
{
    const unsigned char *a = av, *b = bv;
    for (; n >= 8; a += 8, b += 8, n -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return false;
    }
    for (; n > 0; n--)
        if (*a++ != *b++)
            return false;
    return true;
}

/* The entry of key in t, or NULL. */
static inline entry_t *table_find(const table_t *t, const void *key, size_t len,
                                  uint64_t h)
{
    if (t == NULL)
        return NULL;
    for (uintptr_t i = h & t->mask;; i = (i + 1) & t->mask) {
        entry_t *e = t->slots[i];
        if (e == NULL)
            return NULL;
        if (e != TOMB && e->hash == h && e->klen == len && key_eq(e->key, key, len))
            return e;
    }
}

/* Puts e (whose key t lacks) into t, which has a free slot to spare. */
static void table_put(table_t *t, entry_t *e)
{
    uintptr_t i = e->hash & t->mask;
    while (t->slots[i] != NULL && t->slots[i] != TOMB)
        i = (i + 1) & t->mask;
    if (t->slots[i] == NULL)
        t->used++;
    gc_store(&t->slots[i], e);
    t->count++;
}

/* Replaces key's slot with a tombstone; false if t lacks key. */
static bool table_remove(table_t *t, const void *key, size_t len, uint64_t h)
{
    for (uintptr_t i = h & t->mask;; i = (i + 1) & t->mask) {
        entry_t *e = t->slots[i];
        if (e == NULL)
            return false;
        if (e != TOMB && e->hash == h && e->klen == len && memcmp(e->key, key, len) == 0) {
            gc_store(&t->slots[i], TOMB);
            t->count--;
            return true;
        }
    }
}

/* ------------------------------------------------------------------ */
/* entries                                                             */
/* ------------------------------------------------------------------ */

/* A box holding v: what an entry's p points to. */
static void **box(void *v)
{
    void **b = gc_alloc(sizeof(void *));
    gc_store(b, v);
    return b;
}

static inline void *entry_p(entry_t *e)
{
    return __atomic_load_n(&e->p, __ATOMIC_ACQUIRE);
}

static inline bool entry_cas(entry_t *e, void *old, void *new)
{
    return gc__cas_ptr(&e->p, old, new);
}

/* A live entry for key holding box b. */
static entry_t *entry_new(const void *key, size_t len, uint64_t h, void **b)
{
    entry_t *e = gc_alloc(sizeof(entry_t) + len);
    memcpy(e->key, key, len);
    e->klen = len;
    e->hash = h;
    gc_store(&e->p, b);
    return e;
}

/* The value of e, if it is live. */
static inline bool entry_load(entry_t *e, void **value)
{
    void *p = entry_p(e);
    if (p == NULL || p == EXPUNGED)
        return false;
    if (value)
        *value = *(void **)p;
    return true;
}

/* m->mu held: EXPUNGED -> NULL; true if it was expunged (add it to dirty). */
static bool entry_unexpunge(entry_t *e)
{
    return entry_cas(e, EXPUNGED, NULL);
}

/* m->mu held, building dirty: NULL -> EXPUNGED; true if e is deleted. */
static bool entry_expunge(entry_t *e)
{
    void *p = entry_p(e);
    while (p == NULL) {
        if (entry_cas(e, NULL, EXPUNGED))
            return true;
        p = entry_p(e);
    }
    return p == EXPUNGED;
}

/* Swaps box b into e unless e is expunged; the previous p via *prev. */
static bool entry_try_swap(entry_t *e, void **b, void **prev)
{
    for (;;) {
        void *p = entry_p(e);
        if (p == EXPUNGED)
            return false;
        if (entry_cas(e, p, b)) {
            *prev = p;
            return true;
        }
    }
}

/* m->mu held: stores box b into e, which is not expunged; returns the
 * previous p. */
static void *entry_swap_locked(entry_t *e, void **b)
{
    for (;;) {
        void *p = entry_p(e);
        if (entry_cas(e, p, b))
            return p;
    }
}

/* Deletes e's value; true (value in *value) if it was live. */
static bool entry_delete(entry_t *e, void **value)
{
    for (;;) {
        void *p = entry_p(e);
        if (p == NULL || p == EXPUNGED)
            return false;
        if (entry_cas(e, p, NULL)) {
            if (value)
                *value = *(void **)p;
            return true;
        }
    }
}

/* ------------------------------------------------------------------ */
/* the map's snapshot and dirty table                                  */
/* ------------------------------------------------------------------ */

static inline readonly_t *load_read(sync_map_t *m)
{
    readonly_t *r = __atomic_load_n((readonly_t **)&m->read, __ATOMIC_ACQUIRE);
    GORT_TSAN_ACQUIRE(&m->read);
    return r;
}

/* m->mu held: publishes the snapshot {t, amended}. */
static void store_read(sync_map_t *m, table_t *t, bool amended)
{
    readonly_t *r = gc_alloc(sizeof *r);
    gc_store(&r->t, t);
    r->amended = amended;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    GORT_TSAN_RELEASE(&m->read);
    GORT_TSAN_IGNORE_WRITES_BEGIN();
    gc_store(&m->read, r);
    GORT_TSAN_IGNORE_WRITES_END();
}

/* m->mu held: dirty becomes the snapshot once misses reach its size. */
static void miss_locked(sync_map_t *m)
{
    table_t *d = m->dirty;
    if (++m->misses < (intptr_t)(d ? d->count : 0))
        return;
    store_read(m, d, false);
    gc_store(&m->dirty, NULL);
    m->misses = 0;
}

/* m->mu held, no dirty table: builds it from the snapshot's live
 * entries (deleted ones are expunged and left out), and marks the
 * snapshot amended, since the caller is about to add a key. */
static void dirty_init_locked(sync_map_t *m, readonly_t *r)
{
    table_t *t = r ? r->t : NULL;
    if (m->dirty == NULL) {
        table_t *d = table_new(t ? t->count : 0);
        if (t)
            for (uintptr_t i = 0; i <= t->mask; i++) {
                entry_t *e = t->slots[i];
                if (e && e != TOMB && !entry_expunge(e))
                    table_put(d, e);
            }
        gc_store(&m->dirty, d);
    }
    store_read(m, t, true);
}

/* m->mu held: adds e to dirty, growing it when half full. */
static void dirty_put_locked(sync_map_t *m, entry_t *e)
{
    table_t *d = m->dirty;
    if (2 * (d->used + 1) > d->mask + 1) {
        table_t *n = table_new(d->count + 1);
        for (uintptr_t i = 0; i <= d->mask; i++)
            if (d->slots[i] && d->slots[i] != TOMB)
                table_put(n, d->slots[i]);
        gc_store(&m->dirty, n);
        d = n;
    }
    table_put(d, e);
}

/* m->mu held: the entry of key in the snapshot or in dirty (with a miss
 * counted), or NULL; *in_read says where it was found. */
static entry_t *find_locked(sync_map_t *m, const void *key, size_t len, uint64_t h,
                            bool *in_read)
{
    readonly_t *r = load_read(m);
    entry_t *e = table_find(r ? r->t : NULL, key, len, h);
    *in_read = e != NULL;
    if (e == NULL && r && r->amended) {
        e = table_find(m->dirty, key, len, h);
        miss_locked(m);
    }
    return e;
}

/* The entry of key: the snapshot without a lock, then dirty under m->mu
 * if the snapshot is amended. */
static entry_t *find(sync_map_t *m, const void *key, size_t len, uint64_t h)
{
    readonly_t *r = load_read(m);
    entry_t *e = r ? table_find(r->t, key, len, h) : NULL;
    if (e == NULL && r && r->amended) {
        bool in_read;
        sync_mutex_lock(&m->mu);
        e = find_locked(m, key, len, h, &in_read);
        sync_mutex_unlock(&m->mu);
    }
    return e;
}

/* ------------------------------------------------------------------ */
/* public API                                                          */
/* ------------------------------------------------------------------ */

/* m.Load(key). */
bool sync_map_load(sync_map_t *m, const void *key, size_t key_len, void **value)
{
    entry_t *e = find(m, key, key_len, key_hash(key, key_len));
    return e != NULL && entry_load(e, value);
}

/* m.Swap(key, value): stores value; true and the old value if it had one. */
bool sync_map_swap(sync_map_t *m, const void *key, size_t key_len, void *value,
                   void **previous)
{
    uint64_t h = key_hash(key, key_len);
    void **b = box(value), *prev = NULL;
    readonly_t *r = load_read(m);
    entry_t *e = r ? table_find(r->t, key, key_len, h) : NULL;
    if (e == NULL || !entry_try_swap(e, b, &prev)) {
        sync_mutex_lock(&m->mu);
        r = load_read(m);
        e = table_find(r ? r->t : NULL, key, key_len, h);
        if (e != NULL) {
            if (entry_unexpunge(e))
                dirty_put_locked(m, e);
            prev = entry_swap_locked(e, b);
        } else if ((e = table_find(m->dirty, key, key_len, h)) != NULL) {
            prev = entry_swap_locked(e, b);
        } else {
            if (r == NULL || !r->amended)
                dirty_init_locked(m, r);
            dirty_put_locked(m, entry_new(key, key_len, h, b));
        }
        sync_mutex_unlock(&m->mu);
    }
    if (prev == NULL || prev == EXPUNGED)
        return false;
    if (previous)
        *previous = *(void **)prev;
    return true;
}

/* m.Store(key, value). */
void sync_map_store(sync_map_t *m, const void *key, size_t key_len, void *value)
{
    sync_map_swap(m, key, key_len, value, NULL);
}

/* e's value if live (true), else value stored into it if it is merely
 * deleted (false); *done is false if e is expunged. */
static bool entry_load_or_store(entry_t *e, void *value, void **actual, bool *done)
{
    void **b = NULL;
    *done = true;
    for (;;) {
        void *p = entry_p(e);
        if (p == EXPUNGED) {
            *done = false;
            return false;
        }
        if (p != NULL) {
            *actual = *(void **)p;
            return true;
        }
        if (b == NULL)
            b = box(value);
        if (entry_cas(e, NULL, b)) {
            *actual = value;
            return false;
        }
    }
}

/* m.LoadOrStore(key, value): true and the present value in *actual, or
 * false after storing value (*actual = value). */
bool sync_map_load_or_store(sync_map_t *m, const void *key, size_t key_len, void *value,
                            void **actual)
{
    uint64_t h = key_hash(key, key_len);
    void *a = value;
    bool loaded, done;
    readonly_t *r = load_read(m);
    entry_t *e = r ? table_find(r->t, key, key_len, h) : NULL;
    if (e != NULL) {
        loaded = entry_load_or_store(e, value, &a, &done);
        if (done)
            goto out;
    }
    sync_mutex_lock(&m->mu);
    r = load_read(m);
    e = table_find(r ? r->t : NULL, key, key_len, h);
    if (e != NULL) {
        if (entry_unexpunge(e))
            dirty_put_locked(m, e);
        loaded = entry_load_or_store(e, value, &a, &done);
    } else if ((e = table_find(m->dirty, key, key_len, h)) != NULL) {
        loaded = entry_load_or_store(e, value, &a, &done);
        miss_locked(m);
    } else {
        if (r == NULL || !r->amended)
            dirty_init_locked(m, r);
        dirty_put_locked(m, entry_new(key, key_len, h, box(value)));
        loaded = false;
    }
    sync_mutex_unlock(&m->mu);
out:
    if (actual)
        *actual = a;
    return loaded;
}

/* m.LoadAndDelete(key): true and the value if key was present. A key
 * only in dirty leaves dirty's table as well. */
bool sync_map_load_and_delete(sync_map_t *m, const void *key, size_t key_len, void **value)
{
    uint64_t h = key_hash(key, key_len);
    readonly_t *r = load_read(m);
    entry_t *e = r ? table_find(r->t, key, key_len, h) : NULL;
    if (e == NULL && r && r->amended) {
        sync_mutex_lock(&m->mu);
        r = load_read(m);
        e = table_find(r ? r->t : NULL, key, key_len, h);
        if (e == NULL && r && r->amended) {
            e = table_find(m->dirty, key, key_len, h);
            if (e)
                table_remove(m->dirty, key, key_len, h);
            miss_locked(m);
        }
        sync_mutex_unlock(&m->mu);
    }
    return e != NULL && entry_delete(e, value);
}

/* m.Delete(key). */
void sync_map_delete(sync_map_t *m, const void *key, size_t key_len)
{
    sync_map_load_and_delete(m, key, key_len, NULL);
}

/* Replaces e's value old by new (a fresh box), as one CAS. */
static bool entry_compare_and_swap(entry_t *e, void *old, void *new)
{
    void *p = entry_p(e);
    if (p == NULL || p == EXPUNGED || *(void **)p != old)
        return false;
    void **b = box(new);
    for (;;) {
        if (entry_cas(e, p, b))
            return true;
        p = entry_p(e);
        if (p == NULL || p == EXPUNGED || *(void **)p != old)
            return false;
    }
}

/* m.CompareAndSwap(key, old, new): values compared as words. */
bool sync_map_compare_and_swap(sync_map_t *m, const void *key, size_t key_len, void *old,
                               void *value)
{
    uint64_t h = key_hash(key, key_len);
    readonly_t *r = load_read(m);
    entry_t *e = r ? table_find(r->t, key, key_len, h) : NULL;
    if (e != NULL)
        return entry_compare_and_swap(e, old, value);
    if (r == NULL || !r->amended)
        return false;
    bool in_read, swapped = false;
    sync_mutex_lock(&m->mu);
    e = find_locked(m, key, key_len, h, &in_read);
    if (e != NULL)
        swapped = entry_compare_and_swap(e, old, value);
    sync_mutex_unlock(&m->mu);
    return swapped;
}

/* m.CompareAndDelete(key, old): deletes key if its value is old. */
bool sync_map_compare_and_delete(sync_map_t *m, const void *key, size_t key_len, void *old)
{
    entry_t *e = find(m, key, key_len, key_hash(key, key_len));
    while (e != NULL) {
        void *p = entry_p(e);
        if (p == NULL || p == EXPUNGED || *(void **)p != old)
            return false;
        if (entry_cas(e, p, NULL))
            return true;
    }
    return false;
}

/* m.Range(fn, arg): over one snapshot, promoting dirty first if the
 * snapshot is amended, so the walk is O(len) and sees each key once. */
void sync_map_range(sync_map_t *m,
                    bool (*fn)(const void *key, size_t key_len, void *value, void *arg),
                    void *arg)
{
    readonly_t *r = load_read(m);
    table_t *t = r ? r->t : NULL;
    if (r && r->amended) {
        sync_mutex_lock(&m->mu);
        r = load_read(m);
        t = r->t;
        if (r->amended) {
            t = m->dirty;
            store_read(m, t, false);
            gc_store(&m->dirty, NULL);
            m->misses = 0;
        }
        sync_mutex_unlock(&m->mu);
    }
    if (t == NULL)
        return;
    for (uintptr_t i = 0; i <= t->mask; i++) {
        entry_t *e = t->slots[i];
        void *v;
        if (e == NULL || e == TOMB || !entry_load(e, &v))
            continue;
        if (!fn(e->key, e->klen, v, arg))
            break;
    }
}

/* Entries in m's dirty table, or -1 if it has none (tests). */
intptr_t sync__map_dirty_len(sync_map_t *m)
{
    sync_mutex_lock(&m->mu);
    table_t *d = m->dirty;
    intptr_t n = d ? (intptr_t)d->count : -1;
    sync_mutex_unlock(&m->mu);
    return n;
}
