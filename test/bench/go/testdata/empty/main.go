// The Go twin of the idle gort program (test/bench/idle/idle.c).
package main

func main() {}
