/*
 * ping_pong.c -- two goroutines printing in turn: one prints the odd
 * numbers, the other the even ones, each waiting for its turn on its own
 * unbuffered channel and then handing the turn over on the other's.
 */
#include <stdio.h>
#include <gort.h>

#define LAST 10

static chan_t *odd_turn, *even_turn;
static sync_waitgroup_t wg;

typedef struct { chan_t **mine, **theirs; int first; } player_t;

static void play(void *arg)
{
    player_t *p = arg;
    for (int n = p->first; n <= LAST; n += 2) {
        chan_recv(*p->mine, NULL);           /* wait for my turn */
        printf("%s %d\n", p->first == 1 ? "odd " : "even", n);
        if (n < LAST)
            chan_send(*p->theirs, NULL);     /* your turn */
    }
    sync_waitgroup_done(&wg);
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    static player_t odd = {&odd_turn, &even_turn, 1};
    static player_t even = {&even_turn, &odd_turn, 2};
    GC_STORE(odd_turn, chan_make(0, 0));
    GC_STORE(even_turn, chan_make(0, 0));
    sync_waitgroup_add(&wg, 2);
    go(play, &odd);
    go(play, &even);
    chan_send(odd_turn, NULL);               /* odd starts */
    sync_waitgroup_wait(&wg);
    return 0;
}

int main(int argc, char **argv) { return runtime_main(app_main, argc, argv); }
