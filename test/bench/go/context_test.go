// Go twins of test/bench/bench_context.c: same names, same work.
package gortbench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

func BenchmarkContextWithCancel(b *testing.B) {
	parent, cancelParent := context.WithCancel(context.Background())
	for i := 0; i < b.N; i++ {
		_, cancel := context.WithCancel(parent)
		cancel()
	}
	cancelParent()
}

type vkey int

func BenchmarkContextValue10(b *testing.B) {
	keys := make([]*vkey, 10)
	ctx := context.Background()
	for i := range keys {
		keys[i] = new(vkey)
		ctx = context.WithValue(ctx, keys[i], keys[i])
	}
	var sink any
	for i := 0; i < b.N; i++ {
		sink = ctx.Value(keys[0])
	}
	if sink != keys[0] {
		b.Fatal("wrong value")
	}
}

func BenchmarkContextSelect(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	c := make(chan int, 1)
	for i := 0; i < b.N; i++ {
		c <- 1
		select {
		case <-ctx.Done():
			b.Fatal("done")
		case <-c:
		}
	}
	cancel()
}

var mkeys = func() []string {
	k := make([]string, 128)
	for i := range k {
		k[i] = fmt.Sprintf("key%03d", i)
	}
	return k
}()

func filledMap() *sync.Map {
	m := new(sync.Map)
	for i, k := range mkeys {
		m.Store(k, i)
	}
	for _, k := range mkeys {
		m.Load(k)
	}
	return m
}

func BenchmarkMapLoadStable(b *testing.B) {
	m := filledMap()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := m.Load("key007"); !ok {
				panic("missing")
			}
		}
	})
}

var seeds uint32

func BenchmarkMapLoadStore90(b *testing.B) {
	m := filledMap()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s := atomic.AddUint32(&seeds, 1)*2654435761 + 1
		for i := 0; pb.Next(); i++ {
			s = s*1664525 + 1013904223
			k := mkeys[(s>>8)&127]
			if i%10 == 9 {
				m.Store(k, i)
			} else {
				m.Load(k)
			}
		}
	})
}

func BenchmarkPoolGetPut(b *testing.B) {
	p := sync.Pool{New: func() any { return new([64]byte) }}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Put(p.Get())
		}
	})
}
