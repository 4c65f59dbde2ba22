package ladder

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestTmpCPU(t *testing.T) {
	runtime.GOMAXPROCS(1)
	l, _ := Default()
	c := realisticContext(l)
	msg := message200()
	for _, n := range []int{20000} {
		runtime.GC()
		s := cpuTime()
		for i := 0; i < n; i++ {
			l.Decide(c)
		}
		t.Logf("Decide cpu %v/op", (cpuTime()-s)/time.Duration(n))
		runtime.GC()
		s = cpuTime()
		for i := 0; i < n; i++ {
			l.Signals(msg)
		}
		t.Logf("Signals cpu %v/op", (cpuTime()-s)/time.Duration(n))
	}
}
