// test/cxx/cxx_program.cpp -- a C++ program against <gort.h>, built with
// g++ and clang++ (-std=c++11 -Wall -Wextra -Werror) by the Makefile and
// run by test/test_cxx.c: goroutines, a channel, a WaitGroup, defer and
// recover, from C++. It prints "cxx ok <sum> <recovered message>".
#include <cstdio>
#include <cstring>

#include <gort.h>

namespace {

chan_t *results;
sync_waitgroup_t wg;

void square(void *arg)
{
    long n = reinterpret_cast<long>(arg), sq = n * n;
    chan_send(results, &sq);
    sync_waitgroup_done(&wg);
}

void closer(void *)
{
    sync_waitgroup_wait(&wg);
    chan_close(results);
}

const char *recovered;

void recover_it(void *)
{
    recovered = go_recover();
}

void panicky(void *)
{
    go_defer(recover_it, nullptr);
    go_panic("from C++");
}

int app_main(int, char **)
{
    GC_STORE(results, chan_make(sizeof(long), 0));
    for (long i = 1; i <= 10; i++) {
        sync_waitgroup_add(&wg, 1);
        go(square, reinterpret_cast<void *>(i));
    }
    go(closer, nullptr);
    long v, sum = 0;
    while (chan_recv2(results, &v))
        sum += v;
    go_call(panicky, nullptr);
    std::printf("cxx ok %ld %s\n", sum, recovered ? recovered : "(none)");
    return sum == 385 && recovered && std::strcmp(recovered, "from C++") == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
