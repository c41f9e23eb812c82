// go_idle.go — peer: resident memory of live idle goroutines.
//
// Purpose: the Go side of bench "idle_memory". Starts BENCH_N goroutines
// (default 1,000,000), each with its own channel as a mailbox; each
// receives one message (so it has run, like the actors of the other
// runtimes), acknowledges it, and then blocks receiving on its channel.
// The channel slice is allocated and touched before the first RSS
// reading. Prints "bytes_per_actor <(RSS after - RSS before) / N>", RSS
// read from /proc/self/statm.
//
// Exports: main. Threads: the Go scheduler.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rss returns the resident set size in bytes from /proc/self/statm.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// idle handles one message, acknowledges it, then waits forever.
func idle(mbox chan int, ack *sync.WaitGroup) {
	<-mbox
	ack.Done()
	for range mbox {
	}
}

func main() {
	n := 1000000
	if s := os.Getenv("BENCH_N"); s != "" {
		if v, err := strconv.Atoi(s); err == nil {
			n = v
		}
	}
	chans := make([]chan int, n)
	for i := range chans {
		chans[i] = nil
	}
	runtime.GC()
	time.Sleep(200 * time.Millisecond)
	r0 := rss()
	var ack sync.WaitGroup
	ack.Add(n)
	for i := 0; i < n; i++ {
		chans[i] = make(chan int, 1)
		go idle(chans[i], &ack)
		chans[i] <- 1
	}
	ack.Wait()
	runtime.GC()
	time.Sleep(200 * time.Millisecond)
	r1 := rss()
	fmt.Printf("bytes_per_actor %.0f\n", float64(r1-r0)/float64(n))
}
