// go_skynet.go — peer: the skynet benchmark with Go goroutines.
//
// Purpose: the Go side of bench "skynet". The root goroutine starts 10
// children, each of which starts 10 more, down to 1,000,000 leaves
// (1,111,111 goroutines in all); a leaf sends its ordinal to its parent
// over the parent's channel, an inner node sums its 10 children and sends
// the sum up. Prints "seconds <wall time>" and "sum <result>" (expected
// 499999500000). GOMAXPROCS is left to the environment (the script sets
// it to the worker count used by the other runtimes).
//
// Exports: main. Threads: the Go scheduler.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// node computes the sum of ordinals num..num+size-1 through a tree of
// goroutines with fan-out div and sends it on out.
func node(out chan<- int64, num, size, div int64) {
	if size == 1 {
		out <- num
		return
	}
	in := make(chan int64, div)
	sub := size / div
	for i := int64(0); i < div; i++ {
		go node(in, num+i*sub, sub, div)
	}
	var sum int64
	for i := int64(0); i < div; i++ {
		sum += <-in
	}
	out <- sum
}

func main() {
	leaves := int64(1000000)
	if s := os.Getenv("BENCH_N"); s != "" {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			leaves = v
		}
	}
	out := make(chan int64, 1)
	t0 := time.Now()
	go node(out, 0, leaves, 10)
	sum := <-out
	el := time.Since(t0)
	fmt.Printf("seconds %.6f\nsum %d\n", el.Seconds(), sum)
}
