package main

import (
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
)

// restoreRuntime puts GOMAXPROCS and the memory limit back as they were.
func restoreRuntime(t *testing.T) {
	procs, limit := runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(procs)
		debug.SetMemoryLimit(limit)
	})
}

func TestServeMakesRoomForHashing(t *testing.T) {
	restoreRuntime(t)
	t.Setenv("GOMAXPROCS", "")
	t.Setenv("GOMEMLIMIT", "")
	procs := runtime.GOMAXPROCS(0)
	makeRoomForHashing(2, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if got := runtime.GOMAXPROCS(0); got != procs+2 {
		t.Errorf("GOMAXPROCS %d, want a processor more per hash slot: %d", got, procs+2)
	}
	if got, want := debug.SetMemoryLimit(-1), int64(64<<20); got != want {
		t.Errorf("memory limit %d, want %d", got, want)
	}
}

func TestServeLeavesTheOperatorsSettings(t *testing.T) {
	restoreRuntime(t)
	t.Setenv("GOMAXPROCS", "3")
	t.Setenv("GOMEMLIMIT", "1GiB")
	procs, limit := runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1)
	makeRoomForHashing(2, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if runtime.GOMAXPROCS(0) != procs || debug.SetMemoryLimit(-1) != limit {
		t.Errorf("settings given in the environment were changed")
	}
}
