// The Go twin of the idle gort program with an argument
// (test/bench/idle/idle.c): the main goroutine sleeps 100 ms.
package main

import "time"

func main() { time.Sleep(100 * time.Millisecond) }
