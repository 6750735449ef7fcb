// Go twins of test/bench/bench_sched.c: the same work, the same names, so
// tools/run-bench.sh can print gort/Go ratios. Run alone with
//
//	go test -run '^$' -bench . -cpu 1,2
//
// One operation is one goroutine (Spawn, SpawnChain, Parked*) or one
// Gosched (Yield).
package gortbench

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

const spawnRound = 1000000 // goroutines alive per Spawn round at most

// BenchmarkSpawn starts b.N goroutines, in rounds of at most 1,000,000,
// each calling wg.Done; every round is joined with wg.Wait.
func BenchmarkSpawn(b *testing.B) {
	var wg sync.WaitGroup
	for done := 0; done < b.N; {
		k := b.N - done
		if k > spawnRound {
			k = spawnRound
		}
		wg.Add(k)
		for i := 0; i < k; i++ {
			go func() { wg.Done() }()
		}
		wg.Wait()
		done += k
	}
}

// BenchmarkYield: two goroutines calling Gosched, b.N calls in all. It
// always runs at GOMAXPROCS=1 (set here for its duration), as its C twin;
// tools/run-bench.sh asks for it at -cpu 1 only.
const spawnChain = 10000 // goroutines per SpawnChain chain

// chainLink starts the next link (left more to come) and exits; the last
// one tells the benchmark.
func chainLink(left int, done chan struct{}) {
	if left == 0 {
		done <- struct{}{}
		return
	}
	go chainLink(left-1, done)
}

// SpawnChain: one op = one goroutine that starts the next one and exits,
// in chains of 10,000.
func BenchmarkSpawnChain(b *testing.B) {
	done := make(chan struct{})
	for n := 0; n < b.N; {
		k := b.N - n
		if k > spawnChain {
			k = spawnChain
		}
		go chainLink(k-1, done)
		<-done
		n += k
	}
}

func BenchmarkYield(b *testing.B) {
	b.StopTimer()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	b.StartTimer()
	var wg sync.WaitGroup
	yielder := func(n int) {
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
		wg.Done()
	}
	wg.Add(2)
	go yielder(b.N / 2)
	go yielder(b.N - b.N/2)
	wg.Wait()
}

// rssBytes returns VmRSS from /proc/self/status in bytes.
func rssBytes(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line[6:])
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb * 1024
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// parkRound starts k goroutines that block on a channel receive, waits
// until all have arrived, calls measure (if any) while they are parked,
// then releases them all with close and joins them.
func parkRound(k int, measure func()) {
	release := make(chan struct{})
	var arrived int64
	var wg sync.WaitGroup
	wg.Add(k)
	for i := 0; i < k; i++ {
		go func() {
			atomic.AddInt64(&arrived, 1)
			<-release
			wg.Done()
		}()
	}
	for atomic.LoadInt64(&arrived) != int64(k) {
		runtime.Gosched()
	}
	if measure != nil {
		measure()
	}
	close(release)
	wg.Wait()
}

var parkedBytes = map[int]float64{} // count -> B/goroutine, measured once per process

// benchParked: b.N goroutines park and are released, in rounds of count.
// Memory: once per process (untimed, before anything reuses stacks), the
// RSS growth with count goroutines parked, divided by count.
func benchParked(b *testing.B, count int) {
	if _, ok := parkedBytes[count]; !ok {
		b.StopTimer()
		runtime.GC()
		base := rssBytes(b)
		parkRound(count, func() {
			parkedBytes[count] = float64(rssBytes(b)-base) / float64(count)
		})
		b.StartTimer()
	}
	for done := 0; done < b.N; {
		k := b.N - done
		if k > count {
			k = count
		}
		parkRound(k, nil)
		done += k
	}
	b.ReportMetric(parkedBytes[count], "B/goroutine")
}

// BenchmarkStackNew: b.N goroutines parked in rounds of 1,000 (the C
// twin gives every round fresh stacks; Go reuses its dead goroutines').
func BenchmarkStackNew(b *testing.B) {
	for done := 0; done < b.N; {
		k := b.N - done
		if k > 1000 {
			k = 1000
		}
		parkRound(k, nil)
		done += k
	}
}

func BenchmarkParked100k(b *testing.B) { benchParked(b, 100000) }
func BenchmarkParked1M(b *testing.B)   { benchParked(b, 1000000) }
