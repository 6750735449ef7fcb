// Go twins of test/bench/bench_net.c: the same work, the same names, so
// tools/run-bench.sh can print gort/Go ratios. Run alone with
//
//	go test -run '^$' -bench Net -cpu 1,2
//
// EchoK: one op = one 64-byte round trip over one of K loopback TCP
// connections to an echo server (a goroutine per connection), driven by
// netload (test/bench/netload.c), the same external load generator the
// C side starts; metrics req/s, p99-ns, threads, cpu-ns/req, gen-cpu%
// as there.
// EchoK with K = 10000 runs only with NETBENCH_10K=1.
// ParkWake: one op = a 1-byte ping-pong over one connection, each side
// parked in Read before the other writes.
package gortbench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
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

// netloadPath is the load generator: $GORT_NETLOAD (tools/run-bench.sh
// sets it), or the one make builds, relative to this directory.
func netloadPath() string {
	if p := os.Getenv("GORT_NETLOAD"); p != "" {
		return p
	}
	return "../../../build/test/bench/netload"
}

// threadCount is this process's thread count from /proc/self/status.
func threadCount() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "Threads:") {
			n, _ := strconv.Atoi(strings.TrimSpace(line[len("Threads:"):]))
			return float64(n)
		}
	}
	return -1
}

// cpuNs is this process's CPU time (user + system) in nanoseconds.
func cpuNs() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
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
	cmd := exec.Command(netloadPath(), l.Addr().String(), strconv.Itoa(k), strconv.Itoa(b.N))
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	out := bufio.NewReader(outp)
	if line, err := out.ReadString('\n'); err != nil || line != "connected\n" {
		b.Fatalf("netload said %q, %v", line, err)
	}
	b.ResetTimer()
	c0 := cpuNs()
	if _, err := io.WriteString(in, "go\n"); err != nil {
		b.Fatal(err)
	}
	line, err := out.ReadString('\n')
	cpuServer := cpuNs() - c0
	b.StopTimer()
	threads := threadCount()
	var reqs, el, p50, p99, cpu int64
	if _, err := fmt.Sscanf(line, "done %d %d %d %d %d", &reqs, &el, &p50, &p99, &cpu); err != nil {
		b.Fatalf("netload said %q: %v", line, err)
	}
	if el > 0 {
		b.ReportMetric(float64(reqs)*1e9/float64(el), "req/s")
	}
	b.ReportMetric(float64(p99), "p99-ns")
	b.ReportMetric(threads, "threads")
	b.ReportMetric(float64(cpu)/10, "gen-cpu%")
	b.ReportMetric(float64(cpuServer)/float64(reqs), "cpu-ns/req")
	in.Close()
	cmd.Wait()
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
