/* docs/guide/gc.c -- the collector's contract: gc_store for every pointer
 * store that is not into the goroutine's own stack, roots for malloc'd
 * memory, finalizers, runtime_keep_alive. */
#include <stdio.h>
#include <stdlib.h>
#include <gort.h>

typedef struct node {
    struct node *next;
    int value;
} node_t;

static node_t *head;                      /* a global: a root, stores use gc_store */

static void push(int value)
{
    node_t *n = gc_new(node_t);           /* zeroed */
    n->value = value;                     /* not a pointer: plain store */
    GC_STORE(n->next, head);              /* into a new, unpublished object: still */
    GC_STORE(head, n);                    /* into a global */
}

static sync_mutex_t fin_mu;
static int finalized;

static void count_finalized(void *obj)    /* runs on the finalizer goroutine */
{
    (void)obj;
    sync_mutex_lock(&fin_mu);
    finalized++;
    sync_mutex_unlock(&fin_mu);
}

/* Allocates in a frame of its own, so no stale pointer to the objects stays
 * in app_main's frame (the stack is scanned conservatively). */
static __attribute__((noinline)) void make_garbage(int n)
{
    for (int i = 0; i < n; i++)
        runtime_set_finalizer(gc_new(node_t), count_finalized);
}

typedef struct { int fd; } file_t;
static void close_file(void *obj) { ((file_t *)obj)->fd = -1; }

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;

    for (int i = 1; i <= 1000; i++)
        push(i);
    runtime_gc();
    long sum = 0;
    for (node_t *n = head; n != NULL; n = n->next)   /* n: a local, plain stores */
        sum += n->value;
    printf("list survived a GC: sum %ld\n", sum);
    GC_STORE(head, NULL);                 /* NULL too: drop the list */

    /* malloc'd memory is not scanned: register it while it holds GC pointers. */
    enum { SLOTS = 64 };
    node_t **table = calloc(SLOTS, sizeof *table);
    gc_add_roots(table, table + SLOTS);
    for (int i = 0; i < SLOTS; i++) {
        GC_STORE(table[i], gc_new(node_t));          /* a registered root */
        table[i]->value = i;
    }
    node_t **copy = gc_alloc(SLOTS * sizeof *copy);
    gc_memmove(copy, table, SLOTS * sizeof *copy);   /* bulk copy of pointers */
    runtime_gc();
    int intact = 0;
    for (int i = 0; i < SLOTS; i++)
        intact += table[i]->value == i && copy[i] == table[i];
    printf("roots: %d of %d objects intact\n", intact, SLOTS);
    gc_memclr(table, SLOTS * sizeof *table);         /* clear pointers in bulk */
    gc_remove_roots(table, table + SLOTS);
    free(table);

    /* Finalizers run some time after a collection finds the object
     * unreachable, on their own goroutine; never rely on exactly when. */
    make_garbage(100);
    for (int64_t end = time_now() + 10 * TIME_SECOND; time_now() < end;) {
        runtime_gc();
        time_sleep(TIME_MILLISECOND);
        sync_mutex_lock(&fin_mu);
        int n = finalized;
        sync_mutex_unlock(&fin_mu);
        if (n >= 90)
            break;
    }
    printf("finalizers: %s\n", finalized >= 90 ? "at least 90 of 100 ran" : "too few ran");

    /* runtime_keep_alive: the object must stay alive until here, though
     * only an int taken from it is used after its last use. */
    file_t *f = gc_new(file_t);
    f->fd = 1;
    runtime_set_finalizer(f, close_file);
    int fd = f->fd;
    runtime_gc();                         /* f is not used below ... */
    printf("fd %d still open\n", fd);
    runtime_keep_alive(f);                /* ... but kept alive to here */

    int old = runtime_set_gc_percent(50); /* debug.SetGCPercent(50) */
    runtime_mem_stats_t ms;
    runtime_read_mem_stats(&ms);
    printf("GOGC was %d; %s collections so far\n", old, ms.num_gc > 0 ? "some" : "no");
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
