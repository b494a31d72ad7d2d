//go:build !linux

package password

// onHashThread runs f. Only Linux gives a single thread a priority of its
// own (thread_linux.go); elsewhere hashing runs at the process's priority.
func onHashThread(f func()) { f() }
