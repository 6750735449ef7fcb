// Go twins of test/bench/bench_net.c: the same work, the same names, so
// tools/run-bench.sh can print gort/Go ratios. Run alone with
//
//	go test -run '^$' -bench Net -cpu 1,2
//
// EchoK: one op = one 64-byte round trip over one of K loopback TCP
// connections to an echo server (a goroutine per connection), each
// driven by its own client goroutine; metric req/s. EchoK with K = 10000
// runs only with NETBENCH_10K=1.
// ParkWake: one op = a 1-byte ping-pong over one connection, each side
// parked in Read before the other writes.
package gortbench

import (
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

func echoServe(c net.Conn) {
	buf := make([]byte, 64)
	for {
		n, err := c.Read(buf)
		if err != nil || n == 0 {
			break
		}
		if _, err := c.Write(buf[:n]); err != nil {
			break
		}
	}
	c.Close()
}

func echoK(b *testing.B, k int) {
	if k == 10000 && os.Getenv("NETBENCH_10K") != "1" {
		b.Skip("NETBENCH_10K=1 runs it")
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go echoServe(c)
		}
	}()
	conns := make([]net.Conn, k)
	for i := range conns {
		if conns[i], err = net.Dial("tcp4", l.Addr().String()); err != nil {
			b.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	wg.Add(k)
	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < k; i++ {
		n := b.N / k
		if i < b.N%k {
			n++
		}
		go func(c net.Conn, n int) {
			out := make([]byte, 64)
			in := make([]byte, 64)
			for j := 0; j < n; j++ {
				if _, err := c.Write(out); err != nil {
					panic(err)
				}
				if _, err := io.ReadFull(c, in); err != nil {
					panic(err)
				}
			}
			wg.Done()
		}(conns[i], n)
	}
	wg.Wait()
	el := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
	for _, c := range conns {
		c.Close()
	}
	l.Close()
}

func BenchmarkNetEcho1(b *testing.B)     { echoK(b, 1) }
func BenchmarkNetEcho100(b *testing.B)   { echoK(b, 100) }
func BenchmarkNetEcho1000(b *testing.B)  { echoK(b, 1000) }
func BenchmarkNetEcho10000(b *testing.B) { echoK(b, 10000) }

func BenchmarkNetParkWake(b *testing.B) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		b.Fatal(err)
	}
	n := b.N
	done := make(chan struct{})
	b.ResetTimer()
	go func() {
		p := make([]byte, 1)
		for i := 0; i < n; i++ {
			if _, err := s.Read(p); err != nil {
				panic(err)
			}
			if _, err := s.Write(p); err != nil {
				panic(err)
			}
		}
		close(done)
	}()
	p := []byte{'p'}
	for i := 0; i < n; i++ {
		if _, err := c.Write(p); err != nil {
			panic(err)
		}
		if _, err := c.Read(p); err != nil {
			panic(err)
		}
	}
	<-done
	b.StopTimer()
	c.Close()
	s.Close()
	l.Close()
}
