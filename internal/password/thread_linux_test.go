package password

import (
	"runtime"
	"syscall"
	"testing"
)

// niceOfThisThread is the calling thread's nice value. The raw system call
// answers 20 - nice, so that its result is never negative.
func niceOfThisThread(t *testing.T) int {
	t.Helper()
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - prio
}

func TestHashesRunOnThreadsThatYieldToPages(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := niceOfThisThread(t)

	var inside int
	onHashThread(func() { inside = niceOfThisThread(t) })
	if inside != hashNice {
		t.Errorf("a hash ran at nice %d, want %d", inside, hashNice)
	}
	if after := niceOfThisThread(t); after != before {
		t.Errorf("the caller's thread went from nice %d to %d", before, after)
	}
	// The next hash gets a thread of its own too, not one left over from a
	// page request that happened to run there.
	onHashThread(func() { inside = niceOfThisThread(t) })
	if inside != hashNice {
		t.Errorf("the second hash ran at nice %d", inside)
	}
}
