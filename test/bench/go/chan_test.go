// Go twins of test/bench/bench_chan.c: the same work, the same names, so
// tools/run-bench.sh can print gort/Go ratios. Run alone with
//
//	go test -run '^$' -bench Chan -cpu 1,2
//
// PingPong: one op = one round trip over two unbuffered channels.
// Buffered: one op = one item through a cap-128 channel.
// Select: one op = one value through a 2-case select on each side.
// Sleepers: one op = 10,000 goroutines each sleeping 1 ms ten times.
// Chain: one op = test/chan/goroutines.go (a chain of 10,000 goroutines).
package gortbench

import (
	"sync/atomic"
	"testing"
	"time"
)

func BenchmarkChanPingPong(b *testing.B) {
	ping := make(chan int64)
	pong := make(chan int64)
	n := b.N
	go func() {
		for i := 0; i < n; i++ {
			v := <-ping
			pong <- v
		}
	}()
	for i := 0; i < n; i++ {
		ping <- int64(i)
		<-pong
	}
}

func BenchmarkChanBuffered(b *testing.B) {
	c := make(chan int64, 128)
	n := b.N
	go func() {
		for i := 0; i < n; i++ {
			c <- int64(i)
		}
	}()
	var sum int64
	for i := 0; i < n; i++ {
		sum += <-c
	}
	if sum != int64(n)*int64(n-1)/2 {
		b.Fatal("buffered: bad sum")
	}
}

func BenchmarkChanSelect(b *testing.B) {
	ca := make(chan int64)
	cb := make(chan int64)
	n := b.N
	go func() {
		for i := 0; i < n; i++ {
			select {
			case ca <- int64(i):
			case cb <- int64(i):
			}
		}
	}()
	var sum, v int64
	for i := 0; i < n; i++ {
		select {
		case v = <-ca:
		case v = <-cb:
		}
		sum += v
	}
	if sum != int64(n)*int64(n-1)/2 {
		b.Fatal("select: bad sum")
	}
}

const (
	sleepers = 10000
	sleeps   = 10
	sleepNS  = time.Millisecond
)

func BenchmarkChanSleepers(b *testing.B) {
	var lateSum, lateMax int64
	for r := 0; r < b.N; r++ {
		done := make(chan struct{}, sleepers)
		for i := 0; i < sleepers; i++ {
			go func() {
				var mylate, mymax int64
				for k := 0; k < sleeps; k++ {
					t0 := time.Now()
					time.Sleep(sleepNS)
					late := int64(time.Since(t0) - sleepNS)
					if late < 0 {
						panic("sleep returned early")
					}
					mylate += late
					if late > mymax {
						mymax = late
					}
				}
				atomic.AddInt64(&lateSum, mylate)
				for {
					m := atomic.LoadInt64(&lateMax)
					if mymax <= m || atomic.CompareAndSwapInt64(&lateMax, m, mymax) {
						break
					}
				}
				done <- struct{}{}
			}()
		}
		for i := 0; i < sleepers; i++ {
			<-done
		}
	}
	b.ReportMetric(float64(lateSum)/(float64(b.N)*sleepers*sleeps), "late-ns/sleep")
	b.ReportMetric(float64(lateMax), "max-late-ns")
}

const chainLen = 10000

func BenchmarkChanChain(b *testing.B) {
	for r := 0; r < b.N; r++ {
		leftmost := make(chan int64)
		right, left := leftmost, leftmost
		for i := 0; i < chainLen; i++ {
			right = make(chan int64)
			go func(left, right chan int64) { left <- <-right }(left, right)
			left = right
		}
		go func(c chan int64) { c <- 1 }(right)
		if v := <-leftmost; v != 1 {
			b.Fatal("chain: bad value")
		}
	}
}
