package gortbench

// Twins of test/bench/bench_gcpause.c: the collector's pauses and its
// write barrier, same names, same work.

import (
	"os"
	"runtime"
	"sort"
	"sync/atomic"
	"testing"
	"time"
)

type node4 struct{ child [4]*node4 }

// buildTree4 builds a 4-ary tree of about size bytes (tree2's buildTree).
func buildTree4(objsize, size float64) (*node4, float64) {
	x := &node4{}
	sub, got := (size-objsize)/4, objsize
	for i := 0; i < 4 && got < size; i++ {
		c, n := buildTree4(objsize, sub)
		x.child[i] = c
		got += n
	}
	return x, got
}

var pms0 runtime.MemStats

// reportPauses reports the longest (and with p99 the 99th-percentile)
// pause of the cycles since pms0, and cycles per op.
func reportPauses(b *testing.B, p99 bool) {
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	n := m1.NumGC - pms0.NumGC
	if n > 256 {
		n = 256
	}
	p := make([]uint64, n)
	for i := uint32(0); i < n; i++ {
		p[i] = m1.PauseNs[(m1.NumGC+255-i)%256]
	}
	sort.Slice(p, func(i, j int) bool { return p[i] < p[j] })
	var maxp, p99v float64
	if n > 0 {
		maxp = float64(p[n-1]) / 1e6
		k := n * 99 / 100
		if k >= n {
			k = n - 1
		}
		p99v = float64(p[k]) / 1e6
	}
	b.ReportMetric(maxp, "ms-max-pause")
	if p99 {
		b.ReportMetric(p99v, "ms-p99-pause")
	}
	b.ReportMetric(float64(m1.NumGC-pms0.NumGC)/float64(b.N), "GCs/op")
}

var parkCh = make(chan int)
var parkedN int
var parkedNow int32

func parker() {
	mine := make([]byte, 64)
	atomic.AddInt32(&parkedNow, 1)
	<-parkCh
	runtime.KeepAlive(mine)
}

func parkN(n int) {
	for ; parkedN < n; parkedN++ {
		go parker()
	}
	for int(atomic.LoadInt32(&parkedNow)) < n {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // the last ones reach their channel
}

// forcedCycles times b.N runtime.GC calls after a first one and reports
// the pauses.
func forcedCycles(b *testing.B) {
	runtime.GC()
	runtime.ReadMemStats(&pms0)
	b.StartTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
	}
	b.StopTimer()
	reportPauses(b, false)
}

func benchSTW(b *testing.B, n int) {
	b.StopTimer()
	parkN(n)
	forcedCycles(b)
}

func BenchmarkSTWGoroutines1(b *testing.B)    { benchSTW(b, 1) }
func BenchmarkSTWGoroutines10k(b *testing.B)  { benchSTW(b, 10000) }
func BenchmarkSTWGoroutines100k(b *testing.B) { benchSTW(b, 100000) }
func BenchmarkSTWGoroutines1M(b *testing.B) {
	if os.Getenv("GORT_BENCH_LONG") != "1" {
		b.Skip("set GORT_BENCH_LONG=1")
	}
	benchSTW(b, 1000000)
}

var liveTree *node4

func buildLive(bytes float64) {
	if liveTree == nil {
		liveTree, _ = buildTree4(32, bytes)
	}
}

func BenchmarkTree2(b *testing.B) {
	b.StopTimer()
	buildLive(32 << 20)
	forcedCycles(b)
}

type pnode struct {
	next *pnode
	pad  [56]byte
}

var garbageSink *pnode

// churn allocates n times 64 MiB of 64-byte garbage objects.
func churn(n int) {
	for i := 0; i < n; i++ {
		for k := 0; k < (64<<20)/64; k++ {
			g := &pnode{next: garbageSink}
			if k%64 != 0 {
				garbageSink = g
			} else {
				garbageSink = nil
			}
		}
	}
}

// churnBesideSleeper is the latency run over whatever is live: b.N ops of
// churn beside a 1 ms sleeper; reports pauses, p99, its worst lateness.
func churnBesideSleeper(b *testing.B) {
	runtime.GC()
	var lateMax int64
	var on int32 = 1
	done := make(chan bool)
	go func() {
		for atomic.LoadInt32(&on) == 1 {
			t0 := time.Now()
			time.Sleep(time.Millisecond)
			late := int64(time.Since(t0) - time.Millisecond)
			if late > atomic.LoadInt64(&lateMax) {
				atomic.StoreInt64(&lateMax, late)
			}
		}
		done <- true
	}()
	runtime.ReadMemStats(&pms0)
	b.StartTimer()
	churn(b.N)
	b.StopTimer()
	atomic.StoreInt32(&on, 0)
	<-done
	reportPauses(b, true)
	b.ReportMetric(float64(atomic.LoadInt64(&lateMax))/1e6, "ms-sleep-late")
}

func largeHeap(b *testing.B, live float64) {
	b.StopTimer()
	buildLive(live)
	churnBesideSleeper(b)
}

type item16 struct{ a, b uint64 }

var largeArray []*item16

// BenchmarkLargeArray64M: one 64 MiB pointer array, every slot pointing to
// a 16-byte object of its own; the latency run beside it.
func BenchmarkLargeArray64M(b *testing.B) {
	b.StopTimer()
	if largeArray == nil {
		largeArray = make([]*item16, 8<<20)
		for i := range largeArray {
			largeArray[i] = &item16{}
		}
	}
	churnBesideSleeper(b)
}

func BenchmarkLargeHeap256M(b *testing.B) { largeHeap(b, 256<<20) }
func BenchmarkLargeHeap1G(b *testing.B) {
	if os.Getenv("GORT_BENCH_LONG") != "1" {
		b.Skip("set GORT_BENCH_LONG=1")
	}
	largeHeap(b, 1<<30)
}

var storeObj *node4
var storeVals [2]*node4

//go:noinline
func stores(n int) {
	o := storeObj
	for i := 0; i < n; i++ {
		o.child[i&3] = storeVals[i&1]
	}
}

func storeSetup() {
	if storeObj == nil {
		storeObj = &node4{}
		storeVals[0] = &node4{}
		storeVals[1] = &node4{}
	}
}

func BenchmarkStoreOff(b *testing.B) {
	storeSetup()
	stores(b.N)
}

func BenchmarkStoreMarking(b *testing.B) {
	b.StopTimer()
	storeSetup()
	buildLive(64 << 20)
	var on int32 = 1
	done := make(chan bool)
	go func() {
		for atomic.LoadInt32(&on) == 1 {
			runtime.GC()
		}
		done <- true
	}()
	runtime.Gosched()
	b.StartTimer()
	stores(b.N)
	b.StopTimer()
	atomic.StoreInt32(&on, 0)
	<-done
}
