package password

import (
	"runtime"
	"syscall"
)

// hashNice is the scheduling priority (nice value) of the threads that run
// Argon2id. Page requests run at the process's own (0 by default), so when
// the CPU is short the kernel gives it to them first, and a burst of
// sign-ins slows sign-in, not every page.
const hashNice = 10

// onHashThread runs f on an operating-system thread of its own at hashNice
// and returns when f has. The thread ends with f's goroutine (it stays
// locked), so its lowered priority never serves other goroutines. On Linux
// the nice value belongs to a thread, not to the whole process. Failing to
// lower it (a seccomp policy, say) only costs the page requests' head start.
func onHashThread(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), hashNice)
		f()
	}()
	<-done
}
