// Go twins of test/bench/bench_panic.c: the same work, the same names.
// Single-goroutine benchmarks: the C side runs them at GOMAXPROCS=1 only,
// so only the -cpu 1 results pair up.
package gortbench

import "testing"

var panicSink int

//go:noinline
func emptyCall() {}

//go:noinline
func deferOne() { defer func() {}() }

//go:noinline
func deferTen() {
	for i := 0; i < 10; i++ {
		defer func() {}()
	}
}

//go:noinline
func panicker() {
	defer func() {
		if recover() != nil {
			panicSink++
		}
	}()
	panic("bench")
}

func BenchmarkGoCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		emptyCall()
	}
}

func BenchmarkDefer(b *testing.B) {
	for i := 0; i < b.N; i++ {
		deferOne()
	}
}

func BenchmarkDefer10(b *testing.B) {
	for i := 0; i < b.N; i++ {
		deferTen()
	}
}

func BenchmarkPanicRecover(b *testing.B) {
	for i := 0; i < b.N; i++ {
		panicker()
	}
}
