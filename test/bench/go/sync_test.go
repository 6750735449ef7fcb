// Go twins of test/bench/bench_sync.c: same names, same work.
package gortbench

import (
	"runtime"
	"sync"
	"testing"
)

func BenchmarkMutexUncontended(b *testing.B) {
	var mu sync.Mutex
	for i := 0; i < b.N; i++ {
		mu.Lock()
		mu.Unlock()
	}
}

type syncContend struct {
	mu      sync.Mutex
	_       [56]byte
	rw      sync.RWMutex
	_       [40]byte
	wg      sync.WaitGroup
	per     int
	counter int
}

// contend4 runs loop(&c) on 4 goroutines over one syncContend, c.per
// iterations each, at GOMAXPROCS=2 only.
func contend4(b *testing.B, loop func(c *syncContend)) {
	if runtime.GOMAXPROCS(0) != 2 {
		b.Skip("GOMAXPROCS=2 only")
	}
	var c syncContend
	c.per = (b.N + 3) / 4
	c.wg.Add(4)
	for g := 0; g < 4; g++ {
		go func() {
			loop(&c)
			c.wg.Done()
		}()
	}
	c.wg.Wait()
}

func BenchmarkMutexContended4(b *testing.B) {
	contend4(b, func(c *syncContend) {
		for i := 0; i < c.per; i++ {
			c.mu.Lock()
			c.counter++
			c.mu.Unlock()
		}
	})
}

func BenchmarkRWMutexRead90(b *testing.B) {
	contend4(b, func(c *syncContend) {
		for i := 0; i < c.per; i++ {
			if i%10 == 0 {
				c.rw.Lock()
				c.counter++
				c.rw.Unlock()
			} else {
				c.rw.RLock()
				c.rw.RUnlock()
			}
		}
	})
}

func BenchmarkWaitGroupFanOut(b *testing.B) {
	var wg sync.WaitGroup
	for left := b.N; left > 0; {
		k := 100
		if left < k {
			k = left
		}
		wg.Add(k)
		for i := 0; i < k; i++ {
			go wg.Done()
		}
		wg.Wait()
		left -= k
	}
}

func BenchmarkOnce(b *testing.B) {
	var once sync.Once
	f := func() {}
	for i := 0; i < b.N; i++ {
		once.Do(f)
	}
}
