// Go twins of test/bench/bench_idle.c: the resident set of an idle
// program (testdata/empty: func main(){}; testdata/sleep: main sleeps
// 100 ms), built once with go build and run under ptrace, which stops it
// as its exit begins; kB-RSS is the median of its VmRSS there.

package gortbench

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var (
	idleOnce sync.Once
	idleDir  string
	idleErr  error
)

// idleProgram returns the path of testdata/<name> built with go build.
func idleProgram(b *testing.B, name string) string {
	idleOnce.Do(func() {
		idleDir, idleErr = os.MkdirTemp("", "gort-idle")
		for _, n := range []string{"empty", "sleep"} {
			if idleErr != nil {
				return
			}
			out, err := exec.Command("go", "build", "-o", filepath.Join(idleDir, n), "./testdata/"+n).CombinedOutput()
			if err != nil {
				idleErr = &buildError{n, err, string(out)}
			}
		}
	})
	if idleErr != nil {
		b.Fatal(idleErr)
	}
	return filepath.Join(idleDir, name)
}

type buildError struct {
	name string
	err  error
	out  string
}

func (e *buildError) Error() string { return "go build " + e.name + ": " + e.err.Error() + "\n" + e.out }

// statusKB returns the VmRSS of process pid in kB.
func statusKB(b *testing.B, pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			v, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return v
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// runTraced runs path to its end under ptrace and returns its VmRSS in kB
// as its exit began. The caller is locked to its OS thread.
func runTraced(b *testing.B, path string) int64 {
	pid, err := syscall.ForkExec(path, []string{path}, &syscall.ProcAttr{
		Env: os.Environ(), Files: []uintptr{0, 1, 2}, Sys: &syscall.SysProcAttr{Ptrace: true},
	})
	if err != nil {
		b.Fatal(err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		b.Fatalf("%s did not start: %v", path, err)
	}
	syscall.PtraceSetOptions(pid, syscall.PTRACE_O_TRACEEXIT|0x100000) // PTRACE_O_EXITKILL
	syscall.PtraceCont(pid, 0)
	kb := int64(-1)
	for {
		if _, err := syscall.Wait4(pid, &ws, syscall.WALL, nil); err != nil || !ws.Stopped() {
			break
		}
		sig := ws.StopSignal()
		if sig == syscall.SIGTRAP && ws.TrapCause() == syscall.PTRACE_EVENT_EXIT {
			kb = statusKB(b, pid)
			sig = 0
		} else if sig == syscall.SIGTRAP {
			sig = 0
		}
		syscall.PtraceCont(pid, int(sig))
	}
	if !ws.Exited() || ws.ExitStatus() != 0 || kb < 0 {
		b.Fatalf("%s failed: %v", path, ws)
	}
	return kb
}

// benchIdle runs the program b.N times and reports its median kB-RSS.
func benchIdle(b *testing.B, name string) {
	path := idleProgram(b, name)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	kb := make([]int64, b.N)
	b.ResetTimer()
	for i := range kb {
		kb[i] = runTraced(b, path)
	}
	b.StopTimer()
	sort.Slice(kb, func(i, j int) bool { return kb[i] < kb[j] })
	m := float64(kb[len(kb)/2])
	if len(kb)%2 == 0 {
		m = float64(kb[len(kb)/2-1]+kb[len(kb)/2]) / 2
	}
	b.ReportMetric(m, "kB-RSS")
}

func BenchmarkIdleRSS(b *testing.B)      { benchIdle(b, "empty") }
func BenchmarkIdleSleepRSS(b *testing.B) { benchIdle(b, "sleep") }
