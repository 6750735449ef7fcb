/* docs/guide/leak.c -- hunting a goroutine leak: runtime_num_goroutine
 * shows the count growing, the goroutine profile shows where they wait,
 * runtime_stack shows one goroutine's traceback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gort.h>

/* The bug: each request starts a goroutine that waits for a reply on a
 * channel, but a request that times out never gets one, so the goroutine
 * waits for ever. */
static void leaky_fetch(void *arg)
{
    chan_t *reply = arg;
    int v;
    chan_recv(reply, &v);                  /* parked: "chan receive" */
}

/* Step 2: which function's goroutines are piling up? Reads the profile
 * ("COUNT @ PC ..." lines, each followed by its "#\tPC\tFUNCTION+0xOFF\t
 * FILE:LINE" frames) and returns the count of the record naming fn. */
static long count_in_profile(const char *fn)
{
    size_t len = runtime_goroutine_profile(NULL, 0);   /* snprintf-style size */
    char *buf = malloc(len + 1);
    runtime_goroutine_profile(buf, len + 1);
    long count = 0, found = 0;
    for (char *line = strtok(buf, "\n"); line != NULL && found == 0;
         line = strtok(NULL, "\n")) {
        if (line[0] >= '0' && line[0] <= '9')
            count = strtol(line, NULL, 10);              /* a record starts */
        else if (line[0] == '#' && strstr(line, fn) != NULL)
            found = count;                               /* one of its frames */
    }
    free(buf);
    return found;
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    int base = runtime_num_goroutine();
    chan_t *forgotten = chan_make(sizeof(int), 0);
    for (int i = 0; i < 10; i++)
        go(leaky_fetch, forgotten);
    runtime_gosched();

    /* Step 1: the count grows and does not come back down. */
    printf("goroutines: %d more than at start\n", runtime_num_goroutine() - base);
    /* Step 2: the profile groups identical stacks, most frequent first. */
    printf("profile: %ld goroutines in leaky_fetch\n", count_in_profile("leaky_fetch"));
    /* Step 3: the fix here is to close the channel (or select on a done
     * channel in leaky_fetch): every receiver wakes and returns. */
    chan_close(forgotten);
    while (runtime_num_goroutine() > base)
        time_sleep(TIME_MILLISECOND);
    printf("after the fix: %d more than at start\n", runtime_num_goroutine() - base);

    /* runtime_stack: this goroutine's traceback, as text. */
    char tb[4096];
    size_t n = runtime_stack(tb, sizeof tb - 1, false);
    tb[n] = '\0';
    printf("%.*s\n", (int)strcspn(tb, "\n"), tb);      /* the header line */
    printf("names app_main: %s\n", strstr(tb, "app_main") ? "yes" : "no");
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
