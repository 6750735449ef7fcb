// Go twins of test/bench/bench_gc.c: same names, same work.
package gortbench

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

type obj16 struct {
	p *obj16
	_ [8]byte
}
type obj64 struct {
	p *obj64
	_ [56]byte
}
type obj1k struct {
	p *obj1k
	_ [1016]byte
}

var ring16 [1024]*obj16
var ring64 [1024]*obj64
var ring1k [1024]*obj1k

func BenchmarkAlloc16(b *testing.B) {
	for i := 0; i < b.N; i++ {
		p := new(obj16)
		p.p = p
		ring16[i&1023] = p
	}
}

func BenchmarkAlloc64(b *testing.B) {
	for i := 0; i < b.N; i++ {
		p := new(obj64)
		p.p = p
		ring64[i&1023] = p
	}
}

func BenchmarkAlloc1K(b *testing.B) {
	for i := 0; i < b.N; i++ {
		p := new(obj1k)
		p.p = p
		ring1k[i&1023] = p
	}
}

// binary-trees (the Benchmarks Game, Go #2: one goroutine per depth)

type tnode struct{ l, r *tnode }

func bottomUp(depth int) *tnode {
	if depth <= 0 {
		return &tnode{}
	}
	return &tnode{bottomUp(depth - 1), bottomUp(depth - 1)}
}

func (t *tnode) check() int {
	if t.l == nil {
		return 1
	}
	return 1 + t.l.check() + t.r.check()
}

func binaryTrees(n int) int {
	const minDepth = 4
	maxDepth := n
	if maxDepth < minDepth+2 {
		maxDepth = minDepth + 2
	}
	sum := bottomUp(maxDepth + 1).check()
	longLived := bottomUp(maxDepth)
	checks := make([]int, 0, 32)
	for d := minDepth; d <= maxDepth; d += 2 {
		checks = append(checks, 0)
	}
	var wg sync.WaitGroup
	for d, k := minDepth, 0; d <= maxDepth; d, k = d+2, k+1 {
		wg.Add(1)
		go func(d, k int) {
			defer wg.Done()
			iters := 1 << (maxDepth - d + minDepth)
			c := 0
			for i := 0; i < iters; i++ {
				c += bottomUp(d).check()
			}
			checks[k] = c
		}(d, k)
	}
	wg.Wait()
	for _, c := range checks {
		sum += c
	}
	return sum + longLived.check()
}

func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(s.Text())[1], 64)
			return kb * 1024
		}
	}
	return -1
}

func reportGC(b *testing.B, m0 *runtime.MemStats) {
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	n := m1.NumGC - m0.NumGC
	var maxp uint64
	for i := uint32(0); i < n && i < 256; i++ {
		if p := m1.PauseNs[(m1.NumGC+255-i)%256]; p > maxp {
			maxp = p
		}
	}
	b.ReportMetric(float64(n)/float64(b.N), "GCs/op")
	b.ReportMetric(float64(maxp)/1e6, "ms-max-pause")
	b.ReportMetric(peakRSS()/(1<<20), "MB-peak-RSS")
}

var btSink int

// benchBinaryTrees builds binary trees of the given depth b.N times and
// reports the collector's figures.
func benchBinaryTrees(b *testing.B, depth int) {
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for i := 0; i < b.N; i++ {
		btSink += binaryTrees(depth)
	}
	b.StopTimer()
	reportGC(b, &m0)
}

func BenchmarkBinaryTrees18(b *testing.B) { benchBinaryTrees(b, 18) }

func BenchmarkBinaryTrees21(b *testing.B) {
	if os.Getenv("GORT_BENCH_LONG") != "1" {
		b.Skip("set GORT_BENCH_LONG=1")
	}
	benchBinaryTrees(b, 21)
}

// GCBench (Ellis, Kovac, Boehm)

type gnode struct {
	left, right *gnode
	i, j        int32
}

const (
	stretchDepth   = 18
	longLivedDepth = 16
	arraySize      = 500000
	gcMinDepth     = 4
	gcMaxDepth     = 16
)

func treeSize(i int) int { return (1 << (i + 1)) - 1 }
func numIters(i int) int { return 2 * treeSize(stretchDepth) / treeSize(i) }

func populate(depth int, n *gnode) {
	if depth <= 0 {
		return
	}
	depth--
	n.left = new(gnode)
	n.right = new(gnode)
	populate(depth, n.left)
	populate(depth, n.right)
}

func makeTree(depth int) *gnode {
	if depth <= 0 {
		return new(gnode)
	}
	return &gnode{left: makeTree(depth - 1), right: makeTree(depth - 1)}
}

var gcSink *gnode

func gcbenchOnce() {
	gcSink = makeTree(stretchDepth)
	gcSink = nil
	longLived := new(gnode)
	populate(longLivedDepth, longLived)
	array := make([]float64, arraySize)
	for i := 0; i < arraySize/2; i++ {
		array[i] = 1.0 / float64(i)
	}
	for d := gcMinDepth; d <= gcMaxDepth; d += 2 {
		iters := numIters(d)
		for i := 0; i < iters; i++ {
			t := new(gnode)
			populate(d, t)
		}
		for i := 0; i < iters; i++ {
			gcSink = makeTree(d)
		}
		gcSink = nil
	}
	if longLived == nil || array[1000] != 1.0/1000 {
		panic("GCBench: long-lived data lost")
	}
	runtime.KeepAlive(longLived)
	runtime.KeepAlive(array)
}

func BenchmarkGCBench(b *testing.B) {
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for i := 0; i < b.N; i++ {
		gcbenchOnce()
	}
	b.StopTimer()
	reportGC(b, &m0)
}
